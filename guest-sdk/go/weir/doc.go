// Package weir is the Go SDK for weir plugins.
//
// A projection is a plain function that sees one event and a [Ctx] to read and write the
// read model and to emit events:
//
//	func handle(ev *weir.Event, ctx *weir.Ctx) error {
//		if ev.EventType() != "OrderPlaced" {
//			return nil
//		}
//		var order struct {
//			OrderID string `json:"orderId"`
//		}
//		if err := ev.Data(&order); err != nil {
//			return err
//		}
//		return ctx.Upsert("orders", weir.Row{"id": order.OrderID})
//	}
//
// Compiled for wasip1 (with package guest registering the function, see
// weir.local/sdk/guest), the SDK exports the `weir:plugin/projection` world: the host calls
// the plugin once per batch and the SDK calls the function once per event. Compiled
// natively, the function is just a function: test it with package weirtest and `go test`.
//
// This package does not depend on the generated bindings: tables, columns and topics are
// numbers only between [Ctx] and a [Backend].
package weir
