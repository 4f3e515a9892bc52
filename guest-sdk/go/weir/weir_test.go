package weir_test

import (
	"encoding/json"
	"strings"
	"testing"

	"weir.local/sdk/weir"
	"weir.local/sdk/weirtest"
)

func TestMarshalJSONLikeSerde(t *testing.T) {
	type data struct {
		A string  `json:"a"`
		B *string `json:"b"`
	}
	for _, c := range []struct {
		in   string
		want string
	}{
		{"<&>", `{"a":"<&>","b":null}`},
		{"x\u2028y\u2029", "{\"a\":\"x\u2028y\u2029\",\"b\":null}"},
		{`back\u2028slash`, `{"a":"back\\u2028slash","b":null}`},
		{"q\"\n\x01", `{"a":"q\"\n\u0001","b":null}`},
	} {
		got, err := weir.MarshalJSON(data{A: c.in})
		if err != nil || string(got) != c.want {
			t.Errorf("MarshalJSON(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
}

func TestPackedIndexDecoding(t *testing.T) {
	id, corr := "e-1", "c-1"
	buf, types, index := weirtest.Pack([]weirtest.Event{
		{EventType: "A", Data: json.RawMessage(`{"x":1}`), ID: &id, TimestampMs: 1_774_864_800_123,
			Version: 3, CorrelationID: &corr, Key: []byte("k")},
		{EventType: "B", Data: json.RawMessage(`null`)},
		{EventType: "A", Data: json.RawMessage(`[]`)},
	})
	if len(types) != 2 {
		t.Fatalf("event types %v", types)
	}
	e := weir.DecodeEvent(buf, types, index, 0)
	if got, ok := e.ID(); !ok || got != "e-1" {
		t.Errorf("ID = %q %v", got, ok)
	}
	if e.EventType() != "A" || e.Version() != 3 || string(e.Key()) != "k" || string(e.DataRaw()) != `{"x":1}` {
		t.Errorf("decoded %+v", e)
	}
	if got := e.TimestampRFC3339(); got != "2026-03-30T10:00:00.123Z" {
		t.Errorf("timestamp %s", got)
	}
	if _, ok := e.AggregateID(); ok {
		t.Error("absent aggregateId decoded as present")
	}
	if c, _ := e.CorrelationID(); c != "c-1" {
		t.Errorf("correlation %q", c)
	}
	e = weir.DecodeEvent(buf, types, index, 2)
	if e.EventType() != "A" || e.Key() != nil || e.Origin() != 2 {
		t.Errorf("event 2: %+v", e)
	}
}

func TestRowsByNameAndFailures(t *testing.T) {
	host := weirtest.New().
		Table("orders", []string{"id", "user_id", "total", "items", "paid", "meta"}, []string{"id"}).
		Topic("out")
	handler := func(ev *weir.Event, ctx *weir.Ctx) error {
		switch ev.EventType() {
		case "Put":
			return ctx.Upsert("orders", weir.Row{"id": "o1", "total": 5.5, "items": 2, "paid": true, "meta": weir.JSON(`{"a":1}`)})
		case "Bump":
			row, ok, err := ctx.Get("orders", "o1")
			if err != nil || !ok {
				return weir.Errorf("no row: %v", err)
			}
			items, _ := row.Int("items")
			total, _ := row.Float("total")
			row["items"] = items + 1
			row["total"] = total * 2
			return ctx.Upsert("orders", row)
		case "BadColumn":
			return ctx.Upsert("orders", weir.Row{"id": "o2", "nope": 1})
		case "BadTable":
			_, _, err := ctx.Get("missing", "x")
			return err
		case "Retry":
			_ = ctx.Upsert("orders", weir.Row{"id": "dropped"})
			return weir.Retryable("later")
		case "Panic":
			var m map[string]int
			m["x"] = 1
		case "Delete":
			return ctx.Delete("orders", "o1")
		}
		return nil
	}
	results := host.Run(handler,
		weirtest.NewEvent("Put", nil), weirtest.NewEvent("Bump", nil), weirtest.NewEvent("BadColumn", nil),
		weirtest.NewEvent("BadTable", nil), weirtest.NewEvent("Retry", nil), weirtest.NewEvent("Panic", nil))
	for i, want := range []string{"", "", "has no column `nope`", "not declared", "later", "panic: "} {
		got := results[i]
		if (want == "") != (got == nil) || (got != nil && !strings.Contains(got.Error(), want)) {
			t.Errorf("result %d = %v, want %q", i, got, want)
		}
	}
	if e := weir.AsError(results[4]); !e.Retryable {
		t.Error("Retryable error lost its retryability")
	}
	rows := host.Rows("orders")
	if len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	r := rows[0]
	if n, _ := r.Int("items"); n != 3 {
		t.Errorf("items %v", r["items"])
	}
	if f, _ := r.Float("total"); f != 11 {
		t.Errorf("total %v", r["total"])
	}
	if !r.IsNull("user_id") || string(r["meta"].(weir.JSON)) != `{"a":1}` {
		t.Errorf("row %v", r)
	}
	host.Run(handler, weirtest.NewEvent("Delete", nil))
	if _, ok := host.Row("orders", "o1"); ok {
		t.Error("row not deleted")
	}
}
