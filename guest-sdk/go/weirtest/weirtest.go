// Package weirtest tests a handler natively, without Wasm or a broker: [Host] plays the
// host's part with an in-memory read model, keeping the host's rules (one event's failure
// drops that event's writes and emits; later events see earlier events' writes).
//
// Events go through the same packed batch index that the Wasm host sends, so the SDK's
// decoding is exercised as well.
package weirtest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"weir.local/sdk/weir"
)

// Emitted is an event emitted by a handler under test.
type Emitted struct {
	Topic     string
	Key       []byte // nil: no key
	EventType string
	Data      []byte // raw JSON, as the plugin serialised it
}

// Decode parses the emitted data into v.
func (e Emitted) Decode(v any) error { return json.Unmarshal(e.Data, v) }

// Log is a line the handler logged.
type Log struct {
	Level   weir.Level
	Message string
}

type write struct {
	table  uint16
	key    string
	values []weir.Value // nil: a delete
}

// Host is an in-memory stand-in for the weir host.
type Host struct {
	tables  []weir.TableSchema
	topics  []string
	schema  *weir.Schema
	rows    []map[string][]weir.Value // committed rows per table, by rendered key
	order   [][]string                // keys per table in insertion order
	pending []write
	pemits  []Emitted
	emitted []Emitted
	// Logs are the lines the handler logged.
	Logs []Log
}

// New is a host with no tables and no topics.
func New() *Host { return &Host{} }

// Table declares a table, as `[[sink.read_model.tables]]` does in the pipeline.
func (h *Host) Table(name string, columns, primaryKey []string) *Host {
	h.tables = append(h.tables, weir.TableSchema{Name: name, Columns: columns, PrimaryKey: primaryKey})
	h.rows = append(h.rows, map[string][]weir.Value{})
	h.order = append(h.order, nil)
	h.schema = nil
	return h
}

// Topic allows emitting to a topic, as `[sink.topics] allowed` does.
func (h *Host) Topic(name string) *Host {
	h.topics = append(h.topics, name)
	h.schema = nil
	return h
}

// Event is an input event for tests.
type Event struct {
	EventType     string
	Data          any // JSON-encoded unless it is []byte or json.RawMessage (raw JSON)
	ID            *string
	TimestampMs   int64
	Version       uint32 // 0 means 1
	AggregateID   *string
	CorrelationID *string
	Key           []byte
}

// NewEvent is an event of type eventType whose data is data (a value to JSON-encode, or
// raw JSON as []byte / json.RawMessage).
func NewEvent(eventType string, data any) Event { return Event{EventType: eventType, Data: data} }

// Run runs handler on each event in order, as one batch, and returns each event's result
// (nil when it succeeded).
func (h *Host) Run(handler weir.Handler, events ...Event) []error {
	buf, types, index := Pack(events)
	// Commit each event's writes as the next one starts, as the host's overlay does.
	results := make([]error, len(events))
	for k := range events {
		// One event at a time, so that writes are committed or dropped per event.
		one := index[k*64 : (k+1)*64]
		failures := weir.RunBatch(h, buf, types, one, handler)
		if len(failures) > 0 {
			results[k] = failures[0].Error
			h.pending, h.pemits = nil, nil
			continue
		}
		for _, w := range h.pending {
			if w.values == nil {
				delete(h.rows[w.table], w.key)
				continue
			}
			if _, ok := h.rows[w.table][w.key]; !ok {
				h.order[w.table] = append(h.order[w.table], w.key)
			}
			h.rows[w.table][w.key] = w.values
		}
		h.emitted = append(h.emitted, h.pemits...)
		h.pending, h.pemits = nil, nil
	}
	return results
}

// Emitted is every event emitted so far by events that succeeded, in order.
func (h *Host) Emitted() []Emitted { return h.emitted }

// Rows are the rows of table, in the order they were first inserted.
func (h *Host) Rows(table string) []weir.Row {
	t := h.tableIndex(table)
	var out []weir.Row
	for _, k := range h.order[t] {
		if values, ok := h.rows[t][k]; ok {
			out = append(out, h.toRow(t, values))
		}
	}
	return out
}

// Row is the row of table with primary key key.
func (h *Host) Row(table string, key ...any) (weir.Row, bool) {
	t := h.tableIndex(table)
	values := make([]weir.Value, len(key))
	for i, k := range key {
		v, err := weir.ToValue(k)
		if err != nil {
			panic(err)
		}
		values[i] = v
	}
	row, ok := h.rows[t][render(values)]
	if !ok {
		return nil, false
	}
	return h.toRow(t, row), true
}

func (h *Host) toRow(t int, values []weir.Value) weir.Row {
	row := weir.Row{}
	for i, c := range h.tables[t].Columns {
		row[c] = values[i].Any()
	}
	return row
}

func (h *Host) tableIndex(table string) int {
	for i, t := range h.tables {
		if t.Name == table {
			return i
		}
	}
	panic(fmt.Sprintf("table `%s` not declared in the weirtest.Host", table))
}

func render(key []weir.Value) string { return fmt.Sprintf("%#v", key) }

func (h *Host) keyOf(table uint16, values []weir.Value) string {
	t := h.tables[table]
	key := make([]weir.Value, len(t.PrimaryKey))
	for i, k := range t.PrimaryKey {
		for j, c := range t.Columns {
			if c == k {
				key[i] = values[j]
			}
		}
	}
	return render(key)
}

// Schema implements weir.Backend.
func (h *Host) Schema() *weir.Schema {
	if h.schema == nil {
		h.schema = weir.NewSchema(h.tables, h.topics)
	}
	return h.schema
}

// Get implements weir.Backend.
func (h *Host) Get(table uint16, key []weir.Value) ([]weir.Value, bool) {
	k := render(key)
	for i := len(h.pending) - 1; i >= 0; i-- {
		if w := h.pending[i]; w.table == table && w.key == k {
			return w.values, w.values != nil
		}
	}
	v, ok := h.rows[table][k]
	return v, ok
}

// Upsert implements weir.Backend.
func (h *Host) Upsert(_ uint32, table uint16, values []weir.Value) {
	h.pending = append(h.pending, write{table, h.keyOf(table, values), values})
}

// Delete implements weir.Backend.
func (h *Host) Delete(_ uint32, table uint16, values []weir.Value) {
	h.pending = append(h.pending, write{table, h.keyOf(table, values), nil})
}

// Emit implements weir.Backend.
func (h *Host) Emit(_ uint32, topic uint16, key []byte, eventType string, data []byte) {
	if !json.Valid(data) {
		panic(fmt.Sprintf("emitted data is not JSON: %q", data))
	}
	h.pemits = append(h.pemits, Emitted{Topic: h.topics[topic], Key: key, EventType: eventType, Data: data})
}

// RecordInfo implements weir.Backend.
func (h *Host) RecordInfo(origin uint32) weir.RecordMeta {
	return weir.RecordMeta{Topic: "test", Partition: 0, Offset: int64(origin)}
}

// Log implements weir.Backend.
func (h *Host) Log(level weir.Level, message string) {
	h.Logs = append(h.Logs, Log{level, message})
}

// Pack lays events out as the host does: one buffer, the event types once each, and the
// packed 64-byte index.
func Pack(events []Event) (buf []byte, types []string, index []byte) {
	typeAt := map[string]uint16{}
	index = make([]byte, 64*len(events))
	le := binary.LittleEndian
	put := func(row []byte, at int, b []byte, present bool) {
		if !present {
			le.PutUint32(row[at:], 0)
			le.PutUint32(row[at+4:], 0xFFFFFFFF)
			return
		}
		le.PutUint32(row[at:], uint32(len(buf)))
		le.PutUint32(row[at+4:], uint32(len(b)))
		buf = append(buf, b...)
	}
	str := func(s *string) ([]byte, bool) {
		if s == nil {
			return nil, false
		}
		return []byte(*s), true
	}
	for k, e := range events {
		row := index[k*64 : (k+1)*64]
		t, ok := typeAt[e.EventType]
		if !ok {
			t = uint16(len(types))
			typeAt[e.EventType] = t
			types = append(types, e.EventType)
		}
		b, ok := str(e.ID)
		put(row, 0, b, ok)
		le.PutUint64(row[8:], uint64(e.TimestampMs))
		v := e.Version
		if v == 0 {
			v = 1
		}
		le.PutUint32(row[16:], v)
		le.PutUint16(row[20:], t)
		b, ok = str(e.AggregateID)
		put(row, 24, b, ok)
		b, ok = str(e.CorrelationID)
		put(row, 32, b, ok)
		put(row, 40, e.Key, e.Key != nil)
		var data []byte
		switch d := e.Data.(type) {
		case []byte:
			data = d
		case json.RawMessage:
			data = d
		default:
			var err error
			if data, err = json.Marshal(d); err != nil {
				panic(err)
			}
		}
		put(row, 48, data, true)
		le.PutUint32(row[56:], uint32(k))
	}
	return buf, types, index
}
