// The {{name}} projection: one `aggregates` row per aggregate, with its last event type
// and how many events it has seen. An event without `aggregateId` fails (and goes to the
// dead-letter topic); the rest of its batch commits.
//
// Build: ./build.sh (-> plugin.wasm). Test natively, without Wasm: ./build.sh test (go vet
// and go test ./..., with the Go toolchain build.sh installs; main_test.go).
package main

import "weir.local/sdk/weir"

// handle counts the event on its aggregate's row.
func handle(ev *weir.Event, ctx *weir.Ctx) error {
	id, ok := ev.AggregateID()
	if !ok {
		return weir.Errorf("event has no aggregateId")
	}
	row, found, err := ctx.Get("aggregates", id)
	if err != nil {
		return err
	}
	var events int64
	if found {
		events, _ = row.Int("events")
	}
	return ctx.Upsert("aggregates", weir.Row{
		"id":         id,
		"last_event": ev.EventType(),
		"events":     events + 1,
		"updated_at": ev.TimestampRFC3339(),
	})
}

// main is never called: the plugin is a library (a reactor) whose export is `handle`.
func main() {}
