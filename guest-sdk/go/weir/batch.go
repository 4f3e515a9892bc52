package weir

import (
	"encoding/binary"
	"fmt"
	"runtime/debug"
)

// Handler handles one event. A returned error fails that event only.
type Handler func(ev *Event, ctx *Ctx) error

// Failure names an input event of the batch that failed, and why.
type Failure struct {
	Index uint32
	Error *Error
}

// The packed index: one 64-byte little-endian row per event (see weir.wit, `batch`).
const (
	indexRow = 64
	absent   = 0xFFFFFFFF
)

func span(buf, row []byte, at int) []byte {
	start := binary.LittleEndian.Uint32(row[at:])
	n := binary.LittleEndian.Uint32(row[at+4:])
	if n == absent {
		return nil
	}
	return buf[start : start+n : start+n]
}

// DecodeEvent reads event k of a batch from its packed index.
func DecodeEvent(buf []byte, eventTypes []string, index []byte, k int) *Event {
	row := index[k*indexRow : (k+1)*indexRow]
	return &Event{
		id:            span(buf, row, 0),
		timestampMs:   int64(binary.LittleEndian.Uint64(row[8:])),
		version:       binary.LittleEndian.Uint32(row[16:]),
		eventType:     eventTypes[binary.LittleEndian.Uint16(row[20:])],
		aggregateID:   span(buf, row, 24),
		correlationID: span(buf, row, 32),
		key:           span(buf, row, 40),
		data:          span(buf, row, 48),
		origin:        binary.LittleEndian.Uint32(row[56:]),
	}
}

// RunBatch calls handler once per event of the batch, in order, and collects the
// failures. A panic in the handler fails that event (with the panic's message and stack)
// instead of killing the instance.
func RunBatch(backend Backend, buf []byte, eventTypes []string, index []byte, handler Handler) []Failure {
	var failures []Failure
	n := len(index) / indexRow
	for k := 0; k < n; k++ {
		if err := runOne(backend, buf, eventTypes, index, k, handler); err != nil {
			failures = append(failures, Failure{Index: uint32(k), Error: AsError(err)})
		}
	}
	return failures
}

func runOne(backend Backend, buf []byte, eventTypes []string, index []byte, k int, handler Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Error{Message: fmt.Sprintf("panic: %v\n%s", p, debug.Stack())}
		}
	}()
	ev := DecodeEvent(buf, eventTypes, index, k)
	return handler(ev, NewCtx(backend, uint32(k), ev.origin))
}
