// The seeds' CQRS read model, in Go (the twin of plugins/order-summary in Rust):
// `OrderPlaced` (or `OrderCreated`) inserts a row into `order_summaries` with status
// `pending`; `OrderShipped` sets `shipped` and `shipped_at`. Same rows, same failures: the
// data is checked as strictly as serde checks it there (exact key names, types, duplicate
// fields), not with encoding/json's looser struct decoding.
//
// No Wasm imports here, so the logic runs natively: ./build.sh test (main_test.go).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"weir.local/sdk/weir"
)

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
	userID    *string
	itemCount int
	total     float64
}

// decodeOrderPlaced checks the data as the Rust twin's `#[derive(Deserialize)]` does:
// fields in document order (a wrong type or a duplicate field fails there), unknown fields
// ignored, then the missing required fields in declaration order.
func decodeOrderPlaced(data []byte) (orderPlaced, error) {
	var o orderPlaced
	var haveID, haveUser, haveItems, haveTotal bool
	err := decodeStruct(data, "OrderPlaced", func(key string, v []byte) (err error) {
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
			if kind(v) != 'n' {
				var s string
				s, err = text(v)
				o.userID = &s
			}
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

// decodeOrderShipped is the `orderId` of an `OrderShipped`.
func decodeOrderShipped(data []byte) (string, error) {
	var id string
	var haveID bool
	err := decodeStruct(data, "OrderShipped", func(key string, v []byte) (err error) {
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

// --- serde-like checks of raw JSON (the host has already validated it as JSON) ---

func invalid(format string, args ...any) error {
	return weir.Errorf("invalid event data: "+format, args...)
}

// decodeStruct calls field for each member of the JSON object data, in document order.
func decodeStruct(data []byte, name string, field func(key string, value []byte) error) error {
	if kind(data) != '{' {
		return invalid("invalid type: %s, expected struct %s", unexpected(data), name)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		return invalid("%v", err)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return invalid("%v", err)
		}
		key, _ := t.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return invalid("%v", err)
		}
		if err := field(key, value); err != nil {
			return err
		}
	}
	return nil
}

// kind is the first byte of a JSON value: '{', '[', '"', 't', 'f', 'n' or a number's.
func kind(v []byte) byte {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

// text is a JSON string (serde's String).
func text(v []byte) (string, error) {
	if kind(v) != '"' {
		return "", invalid("invalid type: %s, expected a string", unexpected(v))
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", invalid("%v", err)
	}
	return s, nil
}

// f64 is a JSON number, integer or not (serde's f64).
func f64(v []byte) (float64, error) {
	if !isNumber(v) {
		return 0, invalid("invalid type: %s, expected f64", unexpected(v))
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64)
	if err != nil {
		return 0, invalid("number out of range")
	}
	return f, nil
}

// sequenceLen is the length of a JSON array (serde's Vec<IgnoredAny>).
func sequenceLen(v []byte) (int, error) {
	if kind(v) != '[' {
		return 0, invalid("invalid type: %s, expected a sequence", unexpected(v))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return 0, invalid("%v", err)
	}
	return len(items), nil
}

func isNumber(v []byte) bool {
	k := kind(v)
	return k == '-' || (k >= '0' && k <= '9')
}

// unexpected names a JSON value as serde does in "invalid type" errors (integer `5`,
// string "x", map...).
func unexpected(v []byte) string {
	v = bytes.TrimSpace(v)
	switch kind(v) {
	case 'n':
		return "null"
	case 't', 'f':
		return fmt.Sprintf("boolean `%s`", v)
	case '"':
		var s string
		_ = json.Unmarshal(v, &s)
		return "string " + strconv.Quote(s)
	case '{':
		return "map"
	case '[':
		return "sequence"
	}
	if !bytes.ContainsAny(v, ".eE") {
		return fmt.Sprintf("integer `%s`", v)
	}
	f, _ := strconv.ParseFloat(string(v), 64)
	s := strconv.FormatFloat(f, 'f', -1, 64) // as Rust's Display for f64: no exponent
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return fmt.Sprintf("floating point `%s`", s)
}

// main is never called: the plugin is a library (a reactor) whose export is `handle`.
func main() {}
