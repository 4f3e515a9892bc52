package main

// serde_json's checks of a struct's fields, on the raw JSON of an event's data, so that
// this plugin accepts and rejects what the Rust twin does, with the same messages (less
// serde_json's " at line L column C" suffix). The host has already parsed the event as
// JSON: the scanner below only finds where values start and end (no allocation for
// keys without escapes), which is several times faster than encoding/json's tokenizer.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"weir.local/sdk/weir"
)

func invalid(format string, args ...any) error {
	return weir.Errorf("invalid event data: "+format, args...)
}

var errMalformed = invalid("malformed JSON")

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trim(v []byte) []byte {
	for len(v) > 0 && isSpace(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isSpace(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	return v
}

// kind is the first byte of a JSON value: '{', '[', '"', 't', 'f', 'n' or a number's.
func kind(v []byte) byte {
	v = trim(v)
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

// scanner walks valid JSON text.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// next skips white space and tells whether the next byte is c (and consumes it then).
func (s *scanner) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// value is the raw JSON value at the scanner, which it skips.
func (s *scanner) value() ([]byte, error) {
	s.space()
	start := s.i
	if s.i >= len(s.b) {
		return nil, errMalformed
	}
	switch s.b[s.i] {
	case '"':
		if !s.skipString() {
			return nil, errMalformed
		}
	case '{', '[':
		depth := 0
		for {
			if s.i >= len(s.b) {
				return nil, errMalformed
			}
			switch s.b[s.i] {
			case '"':
				if !s.skipString() {
					return nil, errMalformed
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				break
			}
		}
	default: // a number, true, false or null
		for s.i < len(s.b) && !isSpace(s.b[s.i]) && s.b[s.i] != ',' && s.b[s.i] != '}' && s.b[s.i] != ']' {
			s.i++
		}
	}
	return s.b[start:s.i], nil
}

func (s *scanner) skipString() bool {
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return true
		}
	}
	return false
}

// items calls f with each element of the JSON array or each member of the JSON object v
// (key raw, quotes included; nil for arrays), in document order.
func items(v []byte, f func(key, value []byte) error) error {
	s := scanner{b: v}
	object := false
	if !s.next('[') {
		if !s.next('{') {
			return errMalformed
		}
		object = true
	}
	closing := byte(']')
	if object {
		closing = '}'
	}
	if s.next(closing) {
		return nil
	}
	for {
		var key []byte
		if object {
			k, err := s.value()
			if err != nil || !s.next(':') {
				return errMalformed
			}
			key = k
		}
		value, err := s.value()
		if err != nil {
			return err
		}
		if err := f(key, value); err != nil {
			return err
		}
		if s.next(',') {
			continue
		}
		if s.next(closing) {
			return nil
		}
		return errMalformed
	}
}

// members calls field for each member of the JSON object data, in document order, with
// the key unescaped and the value raw; anything but an object is serde's type error.
func members(data []byte, name string, field func(key string, value []byte) error) error {
	if kind(data) != '{' {
		return typeError(data, "struct "+name)
	}
	return items(trim(data), func(k, v []byte) error {
		key, err := unquote(k)
		if err != nil {
			return err
		}
		return field(key, v)
	})
}

// elements are the raw values of the JSON array v.
func elements(v []byte) ([][]byte, error) {
	var out [][]byte
	err := items(trim(v), func(_, e []byte) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// unquote is the text of the JSON string v.
func unquote(v []byte) (string, error) {
	v = trim(v)
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", errMalformed
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", invalid("%v", err)
	}
	return s, nil
}

// text is a JSON string (serde's String).
func text(v []byte) (string, error) {
	if kind(v) != '"' {
		return "", typeError(v, "a string")
	}
	return unquote(v)
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
	f, err := strconv.ParseFloat(string(trim(v)), 64)
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
	n := 0
	err := items(trim(v), func(_, _ []byte) error {
		n++
		return nil
	})
	return n, err
}

func isNumber(v []byte) bool {
	k := kind(v)
	return k == '-' || (k >= '0' && k <= '9')
}

// typeError is serde_json's "invalid type" error for the JSON value v, which names v as
// serde does (integer `5`, floating point `1.0`, string "x", map, ...).
func typeError(v []byte, expected string) error {
	v = trim(v)
	var what string
	switch kind(v) {
	case 'n':
		what = "null"
	case 't', 'f':
		what = fmt.Sprintf("boolean `%s`", v)
	case '"':
		s, err := unquote(v)
		if err != nil {
			return err
		}
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

// serdeFloat formats f as serde_json 1.0.154 does (with zmij): the shortest digits that
// round-trip, fixed notation for decimal exponents -5 to 15 (with ".0" when whole), else
// d.ddde+X / d.ddde-X.
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
