package weir

import (
	"encoding/json"
	"time"
)

// Event is one input event: the seed envelope's fields, read lazily from the batch.
//
// The byte slices it returns alias the batch's buffer: they are valid during the call
// that handles the batch; copy them to keep them longer.
type Event struct {
	eventType     string
	id            []byte
	timestampMs   int64
	version       uint32
	aggregateID   []byte
	correlationID []byte
	key           []byte
	data          []byte
	origin        uint32
}

// EventParts are the fields of an [Event]; nil slices are absent fields. Hosts, tests and
// benchmarks use it; plugins receive events.
type EventParts struct {
	EventType     string
	ID            []byte
	TimestampMs   int64
	Version       uint32
	AggregateID   []byte
	CorrelationID []byte
	Key           []byte
	Data          []byte
	Origin        uint32
}

// NewEvent builds an event from its parts.
func NewEvent(p EventParts) *Event {
	return &Event{
		eventType: p.EventType, id: p.ID, timestampMs: p.TimestampMs, version: p.Version,
		aggregateID: p.AggregateID, correlationID: p.CorrelationID, key: p.Key, data: p.Data,
		origin: p.Origin,
	}
}

func optString(b []byte) (string, bool) {
	if b == nil {
		return "", false
	}
	return string(b), true
}

// EventType is the envelope's `eventType`.
func (e *Event) EventType() string { return e.eventType }

// ID is the envelope's `eventId`, if present.
func (e *Event) ID() (string, bool) { return optString(e.id) }

// TimestampMs is the envelope's `timestamp` in milliseconds since the Unix epoch (0 when
// absent).
func (e *Event) TimestampMs() int64 { return e.timestampMs }

// TimestampRFC3339 is the envelope's `timestamp` as RFC 3339 text in UTC with millisecond
// precision, as the Rust SDK formats it (`2026-03-30T10:00:00.000Z`).
func (e *Event) TimestampRFC3339() string {
	return time.UnixMilli(e.timestampMs).UTC().Format("2006-01-02T15:04:05.000Z")
}

// Version is the envelope's schema `version` (1 when absent).
func (e *Event) Version() uint32 { return e.version }

// AggregateID is the envelope's `aggregateId`, if present.
func (e *Event) AggregateID() (string, bool) { return optString(e.aggregateID) }

// CorrelationID is the envelope's `correlationId`, if present.
func (e *Event) CorrelationID() (string, bool) { return optString(e.correlationID) }

// Key is the Kafka record key (nil when the record has none).
func (e *Event) Key() []byte { return e.key }

// DataRaw is the envelope's `data` as raw JSON text (`null` when absent).
func (e *Event) DataRaw() []byte {
	if e.data == nil {
		return []byte("null")
	}
	return e.data
}

// Data parses the envelope's `data` into v with encoding/json. A parse error is a
// permanent failure of this event ("invalid event data: ...").
//
// encoding/json matches object keys to struct fields case-insensitively and leaves
// missing fields at their zero value: use pointer fields for fields that must be present.
func (e *Event) Data(v any) error {
	if err := json.Unmarshal(e.DataRaw(), v); err != nil {
		return &Error{Message: "invalid event data: " + err.Error()}
	}
	return nil
}

// Origin is the handle the host uses to find this event's Kafka metadata.
func (e *Event) Origin() uint32 { return e.origin }
