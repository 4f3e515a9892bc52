package main

import (
	"encoding/json"
	"strings"
	"testing"

	"weir.local/sdk/weirtest"
)

func TestOrderEventsBecomeNotifications(t *testing.T) {
	host := weirtest.New().Topic("order-notifications")
	results := host.Run(handle,
		weirtest.NewEvent("OrderPlaced", map[string]any{"orderId": "o1", "userId": "u1", "total": 5}),
		weirtest.NewEvent("OrderShipped", map[string]any{"orderId": "o1"}),
		weirtest.NewEvent("OrderShipped", map[string]any{"order": "missing id"}),
		weirtest.NewEvent("OrderCreated", map[string]any{"orderId": "ignored"}),
		weirtest.NewEvent("OrderPlaced", json.RawMessage(`{"orderId": 42}`)),
		weirtest.NewEvent("OrderPlaced", json.RawMessage(`{"orderId": "o2", "userId": null, "note": "<&>"}`)),
	)
	for _, i := range []int{0, 1, 3, 5} {
		if results[i] != nil {
			t.Fatalf("event %d failed: %v", i, results[i])
		}
	}
	for _, i := range []int{2, 4} {
		if results[i] == nil || !strings.HasPrefix(results[i].Error(), "invalid event data") {
			t.Fatalf("event %d: want an invalid-data failure, got %v", i, results[i])
		}
	}
	emitted := host.Emitted()
	if len(emitted) != 3 {
		t.Fatalf("want 3 emitted events, got %d", len(emitted))
	}
	want := []struct{ key, data string }{
		{"o1", `{"orderId":"o1","userId":"u1","channel":"email","template":"order-confirmation"}`},
		{"o1", `{"orderId":"o1","userId":null,"channel":"email","template":"shipping-notification"}`},
		{"o2", `{"orderId":"o2","userId":null,"channel":"email","template":"order-confirmation"}`},
	}
	for i, w := range want {
		e := emitted[i]
		if e.Topic != "order-notifications" || e.EventType != "NotificationRequested" ||
			string(e.Key) != w.key || string(e.Data) != w.data {
			t.Errorf("emitted[%d] = %s %q %s %s, want key %q data %s",
				i, e.Topic, e.Key, e.EventType, e.Data, w.key, w.data)
		}
	}
}

func TestUndeclaredTopicFailsTheEvent(t *testing.T) {
	host := weirtest.New() // no topics allowed
	results := host.Run(handle, weirtest.NewEvent("OrderPlaced", map[string]any{"orderId": "o1"}))
	if results[0] == nil || !strings.Contains(results[0].Error(), "allowed list") {
		t.Fatalf("want an undeclared-topic failure, got %v", results[0])
	}
	if len(host.Emitted()) != 0 {
		t.Fatalf("a failed event emitted %d events", len(host.Emitted()))
	}
}
