package weir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// TableSchema is a table the pipeline declares: its name, its columns in declared order
// and its primary key.
type TableSchema struct {
	Name       string
	Columns    []string
	PrimaryKey []string
}

// Schema is what the pipeline declares: its tables and the topics a plugin may emit to,
// with the name->position maps that [Ctx] uses. Build it once per instance with
// [NewSchema].
type Schema struct {
	Tables []TableSchema
	Topics []string

	tableByName map[string]int
	columnPos   []map[string]int // per table: column name -> position
	keyPos      [][]int          // per table: primary-key column positions, in key order
	topicByName map[string]uint16
}

// NewSchema resolves the names of tables, columns and topics to their positions.
func NewSchema(tables []TableSchema, topics []string) *Schema {
	s := &Schema{
		Tables:      tables,
		Topics:      topics,
		tableByName: make(map[string]int, len(tables)),
		columnPos:   make([]map[string]int, len(tables)),
		keyPos:      make([][]int, len(tables)),
		topicByName: make(map[string]uint16, len(topics)),
	}
	for i, t := range tables {
		s.tableByName[t.Name] = i
		pos := make(map[string]int, len(t.Columns))
		for j, c := range t.Columns {
			pos[c] = j
		}
		s.columnPos[i] = pos
		keys := make([]int, len(t.PrimaryKey))
		for j, k := range t.PrimaryKey {
			keys[j] = pos[k]
		}
		s.keyPos[i] = keys
	}
	for i, t := range topics {
		s.topicByName[t] = uint16(i)
	}
	return s
}

// RecordMeta is the Kafka metadata of an input event.
type RecordMeta struct {
	Topic     string
	Partition int32
	Offset    int64
	Headers   []Header
}

// Header is one Kafka record header.
type Header struct {
	Name  string
	Value []byte
}

// Level is a log level for [Ctx.Log].
type Level uint8

// Log levels, as the host numbers them.
const (
	LevelError Level = iota
	LevelWarn
	LevelInfo
	LevelDebug
	LevelTrace
)

// Backend is where a [Ctx] sends its reads and writes: the Wasm host (package guest) or a
// test host (package weirtest). Tables and topics are positions here.
type Backend interface {
	// Schema is the pipeline's declared tables and topics.
	Schema() *Schema
	// Get is the row of table whose primary key is key, values in declared order.
	Get(table uint16, key []Value) ([]Value, bool)
	// Upsert replaces (or inserts) a row, values in declared order.
	Upsert(input uint32, table uint16, values []Value)
	// Delete deletes the row with the primary key that values carries.
	Delete(input uint32, table uint16, values []Value)
	// Emit produces an event to the topic at position topic. A nil key is no key.
	Emit(input uint32, topic uint16, key []byte, eventType string, data []byte)
	// RecordInfo is the Kafka metadata of the input event with this origin.
	RecordInfo(origin uint32) RecordMeta
	// Log logs a message.
	Log(level Level, message string)
}

// Ctx is what a handler uses to read and write the read model and to emit events, for the
// event it is handling.
type Ctx struct {
	backend Backend
	schema  *Schema
	input   uint32
	origin  uint32
}

// NewCtx is a context for the input event at position input of its batch.
func NewCtx(backend Backend, input, origin uint32) *Ctx {
	return &Ctx{backend: backend, schema: backend.Schema(), input: input, origin: origin}
}

func (c *Ctx) table(name string) (int, error) {
	i, ok := c.schema.tableByName[name]
	if !ok {
		declared := make([]string, len(c.schema.Tables))
		for j, t := range c.schema.Tables {
			declared[j] = t.Name
		}
		return 0, Errorf("table `%s` is not declared in the pipeline (declared: %s)",
			name, strings.Join(declared, ", "))
	}
	return i, nil
}

func (c *Ctx) key(table string, t int, key []any) ([]Value, error) {
	want := len(c.schema.Tables[t].PrimaryKey)
	if len(key) != want {
		return nil, Errorf("table `%s` has a primary key of %d column(s), got %d", table, want, len(key))
	}
	values := make([]Value, len(key))
	for i, k := range key {
		v, err := ToValue(k)
		if err != nil {
			return nil, Errorf("table `%s`, key column `%s`: %v", table, c.schema.Tables[t].PrimaryKey[i], err)
		}
		values[i] = v
	}
	return values, nil
}

// Get is the row of table whose primary key is key (one value per key column, in key
// order), as this batch's earlier writes left it. ok is false when there is no such row.
func (c *Ctx) Get(table string, key ...any) (row Row, ok bool, err error) {
	t, err := c.table(table)
	if err != nil {
		return nil, false, err
	}
	k, err := c.key(table, t, key)
	if err != nil {
		return nil, false, err
	}
	values, ok := c.backend.Get(uint16(t), k)
	if !ok {
		return nil, false, nil
	}
	columns := c.schema.Tables[t].Columns
	row = make(Row, len(columns))
	for i, v := range values {
		if i < len(columns) {
			row[columns[i]] = v.Any()
		}
	}
	return row, true, nil
}

// Upsert inserts row into table, or replaces the row with the same primary key. Columns
// not set are NULL; a column the table does not declare is an error.
func (c *Ctx) Upsert(table string, row Row) error {
	t, err := c.table(table)
	if err != nil {
		return err
	}
	pos := c.schema.columnPos[t]
	values := make([]Value, len(c.schema.Tables[t].Columns))
	for column, v := range row {
		i, ok := pos[column]
		if !ok {
			return Errorf("table `%s` has no column `%s` (declared: %s)",
				table, column, strings.Join(c.schema.Tables[t].Columns, ", "))
		}
		value, err := ToValue(v)
		if err != nil {
			return Errorf("table `%s`, column `%s`: %v", table, column, err)
		}
		values[i] = value
	}
	c.backend.Upsert(c.input, uint16(t), values)
	return nil
}

// Delete deletes the row of table whose primary key is key.
func (c *Ctx) Delete(table string, key ...any) error {
	t, err := c.table(table)
	if err != nil {
		return err
	}
	k, err := c.key(table, t, key)
	if err != nil {
		return err
	}
	values := make([]Value, len(c.schema.Tables[t].Columns))
	for i, at := range c.schema.keyPos[t] {
		values[at] = k[i]
	}
	c.backend.Delete(c.input, uint16(t), values)
	return nil
}

// Emit emits an event of type eventType, keyed by key, with data serialised as JSON, to
// topic, which the pipeline must allow. The host wraps it in the standard envelope.
//
// data is encoded with encoding/json without HTML escaping, so that a struct whose fields
// match a Rust plugin's serde struct gives the same bytes.
func (c *Ctx) Emit(topic, key, eventType string, data any) error {
	encoded, err := MarshalJSON(data)
	if err != nil {
		return Errorf("cannot serialise the data of %s: %v", eventType, err)
	}
	k := make([]byte, len(key)) // non-nil even when empty: an empty key is still a key
	copy(k, key)
	return c.EmitRaw(topic, k, eventType, encoded)
}

// EmitRaw emits an event whose data is already JSON bytes. A nil key is no key.
func (c *Ctx) EmitRaw(topic string, key []byte, eventType string, data []byte) error {
	t, ok := c.schema.topicByName[topic]
	if !ok {
		return Errorf("topic `%s` is not in the pipeline's [sink.topics] allowed list (%s)",
			topic, strings.Join(c.schema.Topics, ", "))
	}
	c.backend.Emit(c.input, t, key, eventType, data)
	return nil
}

// RecordInfo is the Kafka metadata (topic, partition, offset, headers) of the current event.
func (c *Ctx) RecordInfo() RecordMeta { return c.backend.RecordInfo(c.origin) }

// Log logs through the host.
func (c *Ctx) Log(level Level, message string) { c.backend.Log(level, message) }

// Logf logs a formatted message through the host.
func (c *Ctx) Logf(level Level, format string, args ...any) {
	c.backend.Log(level, fmt.Sprintf(format, args...))
}

// MarshalJSON encodes v as compact JSON the way serde_json does for the same fields:
// without HTML escaping (`<`, `>` and `&` stay as they are) and with U+2028 and U+2029
// written as they are, where encoding/json would escape them.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	out = out[:len(out)-1] // Encode appends a newline
	if bytes.Contains(out, []byte(`\u202`)) {
		out = unescapeSeparators(out)
	}
	return out, nil
}

// unescapeSeparators turns the escapes `\u2028` and `\u2029` that encoding/json writes back
// into the characters (an escape is a backslash preceded by an even number of backslashes).
func unescapeSeparators(in []byte) []byte {
	out := make([]byte, 0, len(in))
	backslashes := 0
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c == '\\' && backslashes%2 == 0 && i+6 <= len(in) &&
			(string(in[i+1:i+6]) == "u2028" || string(in[i+1:i+6]) == "u2029") {
			if in[i+5] == '8' {
				out = append(out, "\u2028"...)
			} else {
				out = append(out, "\u2029"...)
			}
			i += 5
			backslashes = 0
			continue
		}
		if c == '\\' {
			backslashes++
		} else {
			backslashes = 0
		}
		out = append(out, c)
	}
	return out
}
