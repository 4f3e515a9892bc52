// The seeds' CQRS read model, in Go (the twin of plugins/order-summary in Rust):
// `OrderPlaced` (or `OrderCreated`) inserts a row into `order_summaries` with status
// `pending`; `OrderShipped` sets `shipped` and `shipped_at`. Same rows, same failures: the
// data is checked as strictly as serde checks it there (exact key names, types, duplicate
// fields, the array form; serde.go), not with encoding/json's looser struct decoding.
//
// No Wasm imports here, so the logic runs natively: ./build.sh test (main_test.go).
package main

import "weir.local/sdk/weir"

const table = "order_summaries"

// handle projects one order event into `order_summaries`.
func handle(ev *weir.Event, ctx *weir.Ctx) error {
	switch ev.EventType() {
	case "OrderPlaced", "OrderCreated":
		order, err := decodeOrderPlaced(ev.DataRaw())
		if err != nil {
			return err
		}
		return ctx.Upsert(table, weir.Row{
			"id":         order.orderID,
			"user_id":    order.userID, // nil: NULL
			"status":     "pending",
			"total":      order.total, // a float, as the Rust twin's f64, even when whole
			"item_count": order.itemCount,
			"created_at": ev.TimestampRFC3339(),
		})
	case "OrderShipped":
		orderID, err := decodeOrderShipped(ev.DataRaw())
		if err != nil {
			return err
		}
		row, ok, err := ctx.Get(table, orderID)
		if err != nil {
			return err
		}
		if !ok {
			return weir.Errorf("OrderShipped for unknown order %s", orderID)
		}
		row["status"] = "shipped"
		row["shipped_at"] = ev.TimestampRFC3339()
		return ctx.Upsert(table, row)
	}
	// The pipeline routes only the types above; anything else is ignored on purpose.
	return nil
}

// orderPlaced is the part of `OrderPlaced` this projection reads. Both seed shapes are
// accepted: `total` (OrderPlaced) and `totalAmount` (OrderCreated).
type orderPlaced struct {
	orderID   string
	userID    *string // nil: absent or null
	itemCount int     // the length of `items` (0 when absent)
	total     float64
}

// decodeOrderPlaced checks the data as the Rust twin's `#[derive(Deserialize)]` does with
// serde_json: an object's members in document order (a wrong type or a duplicate field
// fails there), unknown members ignored, then the missing required fields in declaration
// order; or an array of the fields by position (serde's sequence form of a struct).
func decodeOrderPlaced(data []byte) (o orderPlaced, err error) {
	if kind(data) == '[' {
		elems, err := elements(data)
		if err != nil {
			return o, err
		}
		const want = "struct OrderPlaced with 4 elements"
		if len(elems) < 1 {
			return o, invalid("invalid length 0, expected %s", want)
		}
		if o.orderID, err = text(elems[0]); err != nil {
			return o, err
		}
		if len(elems) < 2 {
			return o, invalid("invalid length 1, expected %s", want)
		}
		if o.userID, err = optionalText(elems[1]); err != nil {
			return o, err
		}
		if len(elems) > 2 { // `items` has a default
			if o.itemCount, err = sequenceLen(elems[2]); err != nil {
				return o, err
			}
		}
		if len(elems) < 4 {
			return o, invalid("invalid length 3, expected %s", want)
		}
		if o.total, err = f64(elems[3]); err != nil {
			return o, err
		}
		if len(elems) > 4 {
			return o, invalid("trailing characters")
		}
		return o, nil
	}
	var haveID, haveUser, haveItems, haveTotal bool
	err = members(data, "OrderPlaced", func(key string, v []byte) (err error) {
		switch key {
		case "orderId":
			if haveID {
				return invalid("duplicate field `orderId`")
			}
			haveID = true
			o.orderID, err = text(v)
		case "userId":
			if haveUser {
				return invalid("duplicate field `userId`")
			}
			haveUser = true
			o.userID, err = optionalText(v)
		case "items":
			if haveItems {
				return invalid("duplicate field `items`")
			}
			haveItems = true
			o.itemCount, err = sequenceLen(v)
		case "total", "totalAmount":
			if haveTotal {
				return invalid("duplicate field `total`")
			}
			haveTotal = true
			o.total, err = f64(v)
		}
		return err
	})
	if err != nil {
		return o, err
	}
	if !haveID {
		return o, invalid("missing field `orderId`")
	}
	if !haveTotal {
		return o, invalid("missing field `total`")
	}
	return o, nil
}

// decodeOrderShipped is the `orderId` of an `OrderShipped`, checked as serde does.
func decodeOrderShipped(data []byte) (id string, err error) {
	if kind(data) == '[' {
		elems, err := elements(data)
		if err != nil {
			return "", err
		}
		if len(elems) < 1 {
			return "", invalid("invalid length 0, expected struct OrderShipped with 1 element")
		}
		if id, err = text(elems[0]); err != nil {
			return "", err
		}
		if len(elems) > 1 {
			return "", invalid("trailing characters")
		}
		return id, nil
	}
	var haveID bool
	err = members(data, "OrderShipped", func(key string, v []byte) (err error) {
		if key != "orderId" {
			return nil
		}
		if haveID {
			return invalid("duplicate field `orderId`")
		}
		haveID = true
		id, err = text(v)
		return err
	})
	if err == nil && !haveID {
		err = invalid("missing field `orderId`")
	}
	return id, err
}

// main is never called: the plugin is a library (a reactor) whose export is `handle`.
func main() {}
