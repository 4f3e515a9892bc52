package weir

import (
	"fmt"
	"math"
)

// JSON is a value for a `json` column: raw JSON text (JSONB on PostgreSQL).
type JSON []byte

// Kind tells which of the WIT `value` cases a [Value] holds.
type Kind uint8

// The cases of the WIT `value` variant.
const (
	KindNull Kind = iota
	KindBoolean
	KindInteger
	KindFloat
	KindText
	KindJSON
)

// Value is one column value as it crosses to the host, in the WIT `value` shape. Plugins
// rarely use it: [Row] holds plain Go values (nil, bool, int64, float64, string, [JSON]).
type Value struct {
	Kind  Kind
	Bool  bool
	Int   int64
	Float float64
	Text  string
	JSON  []byte
}

// ToValue converts a Go value into a column value: nil is NULL; bool; any integer type;
// float32 and float64; string; [JSON] (or json.RawMessage via its []byte form); a pointer
// to one of those (nil is NULL); a [Value] as it is.
func ToValue(v any) (Value, error) {
	switch x := v.(type) {
	case nil:
		return Value{Kind: KindNull}, nil
	case Value:
		return x, nil
	case bool:
		return Value{Kind: KindBoolean, Bool: x}, nil
	case int:
		return Value{Kind: KindInteger, Int: int64(x)}, nil
	case int8:
		return Value{Kind: KindInteger, Int: int64(x)}, nil
	case int16:
		return Value{Kind: KindInteger, Int: int64(x)}, nil
	case int32:
		return Value{Kind: KindInteger, Int: int64(x)}, nil
	case int64:
		return Value{Kind: KindInteger, Int: x}, nil
	case uint:
		return uintValue(uint64(x))
	case uint8:
		return Value{Kind: KindInteger, Int: int64(x)}, nil
	case uint16:
		return Value{Kind: KindInteger, Int: int64(x)}, nil
	case uint32:
		return Value{Kind: KindInteger, Int: int64(x)}, nil
	case uint64:
		return uintValue(x)
	case float32:
		return Value{Kind: KindFloat, Float: float64(x)}, nil
	case float64:
		return Value{Kind: KindFloat, Float: x}, nil
	case string:
		return Value{Kind: KindText, Text: x}, nil
	case JSON:
		return Value{Kind: KindJSON, JSON: x}, nil
	case *string:
		if x == nil {
			return Value{Kind: KindNull}, nil
		}
		return Value{Kind: KindText, Text: *x}, nil
	case *int64:
		if x == nil {
			return Value{Kind: KindNull}, nil
		}
		return Value{Kind: KindInteger, Int: *x}, nil
	case *int:
		if x == nil {
			return Value{Kind: KindNull}, nil
		}
		return Value{Kind: KindInteger, Int: int64(*x)}, nil
	case *float64:
		if x == nil {
			return Value{Kind: KindNull}, nil
		}
		return Value{Kind: KindFloat, Float: *x}, nil
	case *bool:
		if x == nil {
			return Value{Kind: KindNull}, nil
		}
		return Value{Kind: KindBoolean, Bool: *x}, nil
	}
	return Value{}, fmt.Errorf("unsupported column value of type %T", v)
}

func uintValue(u uint64) (Value, error) {
	if u > math.MaxInt64 {
		return Value{}, fmt.Errorf("integer %d does not fit a 64-bit signed column", u)
	}
	return Value{Kind: KindInteger, Int: int64(u)}, nil
}

// Any is the plain Go form of the value: nil, bool, int64, float64, string or [JSON].
func (v Value) Any() any {
	switch v.Kind {
	case KindBoolean:
		return v.Bool
	case KindInteger:
		return v.Int
	case KindFloat:
		return v.Float
	case KindText:
		return v.Text
	case KindJSON:
		return JSON(v.JSON)
	}
	return nil
}
