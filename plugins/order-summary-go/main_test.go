package main

import (
	"encoding/json"
	"testing"

	"weir.local/sdk/weirtest"
)

func host() *weirtest.Host {
	return weirtest.New().Table("order_summaries",
		[]string{"id", "user_id", "status", "total", "item_count", "created_at", "shipped_at"},
		[]string{"id"})
}

func placed(id string) weirtest.Event {
	e := weirtest.NewEvent("OrderPlaced", map[string]any{
		"orderId": id, "userId": "user-456",
		"items": []any{map[string]any{"productId": "prod-789", "quantity": 2, "price": 29.99}},
		"total": 59.98,
	})
	e.TimestampMs = 1_774_864_800_000
	return e
}

func TestPlacedThenShippedInOneBatch(t *testing.T) {
	h := host()
	shipped := weirtest.NewEvent("OrderShipped", map[string]any{"orderId": "ord-123"})
	shipped.TimestampMs = 1_774_868_400_000
	results := h.Run(handle, placed("ord-123"), shipped)
	if results[0] != nil || results[1] != nil {
		t.Fatalf("results = %v", results)
	}
	row, ok := h.Row("order_summaries", "ord-123")
	if !ok {
		t.Fatal("no row")
	}
	want := map[string]any{
		"id": "ord-123", "user_id": "user-456", "status": "shipped", "total": 59.98,
		"item_count": int64(1), "created_at": "2026-03-30T10:00:00.000Z",
		"shipped_at": "2026-03-30T11:00:00.000Z",
	}
	for c, v := range want {
		if row[c] != v {
			t.Errorf("%s = %#v, want %#v", c, row[c], v)
		}
	}
}

func TestOrderCreatedShapeIsAccepted(t *testing.T) {
	h := host()
	created := weirtest.NewEvent("OrderCreated",
		json.RawMessage(`{"orderId": "ORD-12345", "userId": "USR-123", "totalAmount": 99.99, "items": []}`))
	if r := h.Run(handle, created); r[0] != nil {
		t.Fatal(r[0])
	}
	row, _ := h.Row("order_summaries", "ORD-12345")
	if f, _ := row.Float("total"); f != 99.99 {
		t.Errorf("total = %v", row["total"])
	}
	if n, _ := row.Int("item_count"); n != 0 {
		t.Errorf("item_count = %v", row["item_count"])
	}
}

func TestOptionalFields(t *testing.T) {
	h := host()
	// userId absent or null is NULL; items absent is 0; a whole total stays a float.
	r := h.Run(handle,
		weirtest.NewEvent("OrderPlaced", json.RawMessage(`{"orderId": "a", "total": 5}`)),
		weirtest.NewEvent("OrderPlaced", json.RawMessage(`{"orderId": "b", "userId": null, "total": 1.5, "extra": {"x": [1]}}`)),
	)
	if r[0] != nil || r[1] != nil {
		t.Fatalf("results = %v", r)
	}
	for _, id := range []string{"a", "b"} {
		row, _ := h.Row("order_summaries", id)
		if !row.IsNull("user_id") || row["item_count"] != int64(0) || !row.IsNull("shipped_at") {
			t.Errorf("row %s = %v", id, row)
		}
	}
	if row, _ := h.Row("order_summaries", "a"); row["total"] != float64(5) {
		t.Errorf("total = %#v, want float64(5)", row["total"])
	}
}

func TestShippingAnUnknownOrderFailsAlone(t *testing.T) {
	h := host()
	shipped := weirtest.NewEvent("OrderShipped", map[string]any{"orderId": "nope"})
	results := h.Run(handle, shipped, placed("ord-1"))
	if results[0] == nil || results[0].Error() != "OrderShipped for unknown order nope" {
		t.Fatalf("want an unknown-order failure, got %v", results[0])
	}
	if results[1] != nil {
		t.Fatal(results[1])
	}
	if n := len(h.Rows("order_summaries")); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

// The failures the Rust twin's serde derive gives (without serde_json's " at line L
// column C" suffix).
func TestBadDataFailsAsSerdeDoes(t *testing.T) {
	cases := []struct{ eventType, data, want string }{
		{"OrderPlaced", `{"orderId": 5}`, "invalid type: integer `5`, expected a string"},
		{"OrderPlaced", `{"orderId": "o", "total": "9"}`, `invalid type: string "9", expected f64`},
		{"OrderPlaced", `{"orderId": "o", "total": null}`, "invalid type: null, expected f64"},
		{"OrderPlaced", `{"orderId": "o", "userId": 7.5, "total": 1}`, "invalid type: floating point `7.5`, expected a string"},
		{"OrderPlaced", `{"orderId": "o", "items": null, "total": 1}`, "invalid type: null, expected a sequence"},
		{"OrderPlaced", `{"orderId": "o", "items": {}, "total": 1}`, "invalid type: map, expected a sequence"},
		{"OrderPlaced", `{"orderId": "o", "total": 1, "totalAmount": 2}`, "duplicate field `total`"},
		{"OrderPlaced", `{"orderId": "o", "orderId": "p", "total": 1}`, "duplicate field `orderId`"},
		{"OrderPlaced", `{"orderid": "o", "total": 1}`, "missing field `orderId`"}, // keys are exact
		{"OrderPlaced", `{"total": true, "orderId": 1}`, "invalid type: boolean `true`, expected f64"},
		{"OrderPlaced", `{"orderId": "o"}`, "missing field `total`"},
		{"OrderCreated", `[1]`, "invalid type: integer `1`, expected a string"}, // by position
		{"OrderPlaced", `["o", null]`, "invalid length 3, expected struct OrderPlaced with 4 elements"},
		{"OrderPlaced", `{"orderId": -0, "total": 1}`, "invalid type: floating point `-0.0`, expected a string"},
		{"OrderPlaced", `{"orderId": 1e21, "total": 1}`, "invalid type: floating point `1e+21`, expected a string"},
		{"OrderPlaced", `{"orderId": "o", "total": 1e400}`, "number out of range"},
		{"OrderPlaced", `{"orderId": "o", "items": "\u00e9\t\u0001\"", "total": 1}`, `invalid type: string "é\t\u{1}\"", expected a sequence`},
		{"OrderShipped", `{}`, "missing field `orderId`"},
		{"OrderShipped", `"x"`, `invalid type: string "x", expected struct OrderShipped`},
		{"OrderShipped", `null`, "invalid type: null, expected struct OrderShipped"},
	}
	for _, c := range cases {
		h := host()
		r := h.Run(handle, weirtest.NewEvent(c.eventType, json.RawMessage(c.data)))
		want := "invalid event data: " + c.want
		if r[0] == nil || r[0].Error() != want {
			t.Errorf("%s %s: got %v, want %q", c.eventType, c.data, r[0], want)
		}
		if n := len(h.Rows("order_summaries")); n != 0 {
			t.Errorf("%s %s: a failed event wrote %d rows", c.eventType, c.data, n)
		}
	}
}

func TestOtherEventTypesAreIgnored(t *testing.T) {
	h := host()
	if r := h.Run(handle, weirtest.NewEvent("OrderCancelled", json.RawMessage(`"anything"`))); r[0] != nil {
		t.Fatal(r[0])
	}
}
