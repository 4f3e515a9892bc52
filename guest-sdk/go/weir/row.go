package weir

// Row is a read-model row, its columns named, values as plain Go values (see [ToValue]).
// Columns not set are NULL. Rows read with [Ctx.Get] hold nil, bool, int64, float64,
// string or [JSON].
type Row map[string]any

// String is a text column.
func (r Row) String(column string) (string, bool) {
	s, ok := r[column].(string)
	return s, ok
}

// Int is an integer column.
func (r Row) Int(column string) (int64, bool) {
	i, ok := r[column].(int64)
	return i, ok
}

// Float is a numeric column as float64 (integer columns too).
func (r Row) Float(column string) (float64, bool) {
	switch x := r[column].(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// Bool is a boolean column.
func (r Row) Bool(column string) (bool, bool) {
	b, ok := r[column].(bool)
	return b, ok
}

// IsNull tells whether a column is NULL or not set.
func (r Row) IsNull(column string) bool {
	return r[column] == nil
}
