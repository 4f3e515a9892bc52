// A topic-to-topic transform, as the seeds' notification service: each OrderPlaced and
// OrderShipped becomes a NotificationRequested event on `order-notifications`, keyed by
// the order id. No read model. The Go twin of plugins/order-notifications (Rust).
package main

import "weir.local/sdk/weir"

// order is the part of an order event's data this plugin reads. Pointer fields tell a
// missing or null field from an empty one.
type order struct {
	OrderID *string `json:"orderId"`
	UserID  *string `json:"userId"`
}

// notificationRequested is the emitted event's data; field order and names are those of
// the Rust twin's serde struct, so the JSON bytes are the same.
type notificationRequested struct {
	OrderID  string  `json:"orderId"`
	UserID   *string `json:"userId"` // null when the order has none
	Channel  string  `json:"channel"`
	Template string  `json:"template"`
}

// handle turns an order event into a notification request.
func handle(ev *weir.Event, ctx *weir.Ctx) error {
	var template string
	switch ev.EventType() {
	case "OrderPlaced":
		template = "order-confirmation"
	case "OrderShipped":
		template = "shipping-notification"
	default:
		return nil
	}
	var o order
	if err := ev.Data(&o); err != nil {
		return err
	}
	if o.OrderID == nil {
		return weir.Errorf("invalid event data: missing field `orderId`")
	}
	request := notificationRequested{
		OrderID:  *o.OrderID,
		UserID:   o.UserID,
		Channel:  "email",
		Template: template,
	}
	return ctx.Emit("order-notifications", *o.OrderID, "NotificationRequested", request)
}

// main is never called: the plugin is a library (a reactor) whose export is `handle`.
func main() {}
