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
	"unicode"

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

// --- serde_json-like checks of raw JSON (the host has already parsed it as JSON) ---
//
// The messages are serde_json's without its " at line L column C" suffix.

func invalid(format string, args ...any) error {
	return weir.Errorf("invalid event data: "+format, args...)
}

// members calls field for each member of the JSON object data, in document order, with
// the key unescaped and the value raw.
func members(data []byte, name string, field func(key string, value []byte) error) error {
	if kind(data) != '{' {
		return typeError(data, "struct "+name)
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

// elements are the raw values of the JSON array v.
func elements(v []byte) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, invalid("%v", err)
	}
	return items, nil
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
		return "", typeError(v, "a string")
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", invalid("%v", err)
	}
	return s, nil
}

// optionalText is null (nil) or a JSON string (serde's Option<String>).
func optionalText(v []byte) (*string, error) {
	if kind(v) == 'n' {
		return nil, nil
	}
	s, err := text(v)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// f64 is a JSON number, integer or not (serde's f64).
func f64(v []byte) (float64, error) {
	if !isNumber(v) {
		return 0, typeError(v, "f64")
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
		return 0, typeError(v, "a sequence")
	}
	items, err := elements(v)
	return len(items), err
}

func isNumber(v []byte) bool {
	k := kind(v)
	return k == '-' || (k >= '0' && k <= '9')
}

// typeError is serde_json's "invalid type" error for the JSON value v, which names v as
// serde does (integer `5`, floating point `1.0`, string "x", map, ...).
func typeError(v []byte, expected string) error {
	v = bytes.TrimSpace(v)
	var what string
	switch kind(v) {
	case 'n':
		what = "null"
	case 't', 'f':
		what = fmt.Sprintf("boolean `%s`", v)
	case '"':
		var s string
		_ = json.Unmarshal(v, &s)
		what = "string " + rustDebug(s)
	case '{':
		what = "map"
	case '[':
		what = "sequence"
	default:
		// serde_json: an integer that fits u64 (or i64, when negative; but -0 is a float)
		// is an integer; any other number a float, out of range beyond f64.
		n := string(v)
		_, errU := strconv.ParseUint(n, 10, 64)
		i, errI := strconv.ParseInt(n, 10, 64)
		if errU == nil || (errI == nil && i != 0) {
			what = fmt.Sprintf("integer `%s`", n)
			break
		}
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return invalid("number out of range")
		}
		what = fmt.Sprintf("floating point `%s`", serdeFloat(f))
	}
	return invalid("invalid type: %s, expected %s", what, expected)
}

// serdeFloat formats f as serde_json 1.0.154 does (zmij): the shortest digits that
// round-trip, fixed notation for decimal exponents -5 to 15 (with ".0" when whole), else
// d.ddde+XX / d.ddde-XX.
func serdeFloat(f float64) string {
	sci := strconv.FormatFloat(f, 'e', -1, 64) // e.g. 1.2345e+16, 1e-07
	mantissa, exp, _ := strings.Cut(sci, "e")
	e, _ := strconv.Atoi(exp)
	if e >= -5 && e < 16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	if e < 0 {
		return fmt.Sprintf("%se-%d", mantissa, -e)
	}
	return fmt.Sprintf("%se+%d", mantissa, e)
}

// rustDebug quotes s as Rust's Debug for str does ("a\"b\n\u{1}").
func rustDebug(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0:
			b.WriteString(`\0`)
		default:
			if unicode.IsPrint(r) {
				b.WriteRune(r)
			} else {
				fmt.Fprintf(&b, `\u{%x}`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// main is never called: the plugin is a library (a reactor) whose export is `handle`.
func main() {}
