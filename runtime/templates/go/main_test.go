package main

import (
	"testing"

	"weir.local/sdk/weirtest"
)

func TestCountsEventsPerAggregate(t *testing.T) {
	host := weirtest.New().Table("aggregates", []string{"id", "last_event", "events", "updated_at"}, []string{"id"})
	o1 := "o1"
	placed := weirtest.NewEvent("OrderPlaced", map[string]any{"orderId": "o1"})
	placed.AggregateID = &o1
	placed.TimestampMs = 1_774_864_800_000
	shipped := weirtest.NewEvent("OrderShipped", map[string]any{"orderId": "o1"})
	shipped.AggregateID = &o1
	shipped.TimestampMs = 1_774_868_400_000
	orphan := weirtest.NewEvent("OrderPlaced", map[string]any{})
	results := host.Run(handle, placed, shipped, orphan)
	if results[0] != nil || results[1] != nil {
		t.Fatalf("want the first two events to succeed, got %v", results)
	}
	if results[2] == nil || results[2].Error() != "event has no aggregateId" {
		t.Fatalf("want `event has no aggregateId`, got %v", results[2])
	}
	row, ok := host.Row("aggregates", "o1")
	if !ok {
		t.Fatal("no row for o1")
	}
	if n, _ := row.Int("events"); n != 2 {
		t.Errorf("events = %d, want 2", n)
	}
	if s, _ := row.String("last_event"); s != "OrderShipped" {
		t.Errorf("last_event = %q, want OrderShipped", s)
	}
	if s, _ := row.String("updated_at"); s != "2026-03-30T11:00:00.000Z" {
		t.Errorf("updated_at = %q, want 2026-03-30T11:00:00.000Z", s)
	}
	if n := len(host.Rows("aggregates")); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}
