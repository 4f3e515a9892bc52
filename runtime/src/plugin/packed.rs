//! A row's values packed in one buffer: how the Rust SDK hands rows to the host
//! (`read-model.upsert-packed`) and gets them back (`get-packed`), and how the host keeps
//! them from the plugin call to the database. One allocation per row, where a
//! `list<value>` costs one per text value on each side of the boundary plus wasmtime's
//! lifting of every variant.
//!
//! The format (documented with `types` in `guest-sdk/wit/weir.wit`): per value a tag byte,
//! then its payload, little-endian:
//!
//! | tag | value   | payload                          |
//! | --- | ------- | -------------------------------- |
//! | 0   | null    | none                             |
//! | 1   | boolean | one byte, 0 or 1                 |
//! | 2   | integer | s64                              |
//! | 3   | float   | f64 bits                         |
//! | 4   | text    | u32 length, then UTF-8 bytes     |
//! | 5   | json    | u32 length, then raw JSON bytes  |
//!
//! Equal values give equal bytes and unequal values differ, so the same encoding serves
//! as a key: a row's key is the concatenation of its key columns' encodings, copied
//! without decoding anything, and a key's values are a packed row of their own.

use super::Value;

/// One value of a packed row, borrowing its text and JSON from the row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// SQL NULL.
    Null,
    /// A boolean.
    Boolean(bool),
    /// A 64-bit integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// UTF-8 text.
    Text(&'a str),
    /// Raw JSON text.
    Json(&'a [u8]),
}

impl ValueRef<'_> {
    /// The owned value.
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Boolean(b) => Value::Boolean(b),
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Text(s) => Value::Text(s.to_owned()),
            ValueRef::Json(j) => Value::Json(j.to_vec()),
        }
    }
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => ValueRef::Null,
            Value::Boolean(b) => ValueRef::Boolean(*b),
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Text(s) => ValueRef::Text(s),
            Value::Json(j) => ValueRef::Json(j),
        }
    }
}

/// Why bytes from a plugin are not a packed row.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PackError {
    /// The row has another number of values than the table has columns.
    #[error("{found} values where {expected} were expected")]
    Count {
        /// Values found.
        found: usize,
        /// Values expected.
        expected: usize,
    },
    /// The bytes do not follow the format.
    #[error("malformed packed value at byte {at}: {what}")]
    Malformed {
        /// Offset of the value in the row.
        at: usize,
        /// What is wrong.
        what: &'static str,
    },
}

/// A row's values in declared column order, packed (see the module doc). Always well
/// formed: built from values, or checked when it comes from a plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedRow(Vec<u8>);

impl PackedRow {
    /// Checks `bytes` from a plugin: well formed, `columns` values, text in UTF-8.
    pub fn new(bytes: Vec<u8>, columns: usize) -> Result<Self, PackError> {
        let mut at = 0;
        let mut found = 0;
        while at < bytes.len() {
            at = decode(&bytes, at)?.1;
            found += 1;
        }
        if found != columns {
            return Err(PackError::Count { found, expected: columns });
        }
        Ok(PackedRow(bytes))
    }

    /// Packs `values`.
    pub fn from_values<'v>(values: impl IntoIterator<Item = &'v Value>) -> Self {
        PackedRow::from_values_in(Vec::with_capacity(64), values)
    }

    /// Packs `values` into `bytes`' storage, replacing what it held (to reuse a buffer;
    /// [`PackedRow::into_bytes`] gives it back).
    pub fn from_values_in<'v>(mut bytes: Vec<u8>, values: impl IntoIterator<Item = &'v Value>) -> Self {
        bytes.clear();
        for v in values {
            encode_value(&mut bytes, ValueRef::from(v));
        }
        PackedRow(bytes)
    }

    /// The packed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The packed bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The values in order.
    pub fn iter(&self) -> Values<'_> {
        Values { bytes: &self.0, at: 0 }
    }

    /// The value of `column`, if the row has that many.
    pub fn get(&self, column: usize) -> Option<ValueRef<'_>> {
        self.iter().nth(column)
    }

    /// The values, owned.
    pub fn to_values(&self) -> Vec<Value> {
        self.iter().map(ValueRef::to_value).collect()
    }

    /// The encoding of `column`'s value (empty past the last column).
    pub fn encoded(&self, column: usize) -> &[u8] {
        let mut at = 0;
        for _ in 0..column {
            if at >= self.0.len() {
                return &[];
            }
            at = decode(&self.0, at).expect("a checked row").1;
        }
        if at >= self.0.len() {
            return &[];
        }
        &self.0[at..decode(&self.0, at).expect("a checked row").1]
    }

    /// Appends the row's key to `out`: the encodings of the columns at `key_positions`
    /// one after the other (the bytes of the key values packed as a row).
    pub fn key_into(&self, key_positions: &[usize], out: &mut Vec<u8>) {
        for &k in key_positions {
            out.extend_from_slice(self.encoded(k));
        }
    }
}

/// The values of a [`PackedRow`], in order.
pub struct Values<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Values<'a> {
    type Item = ValueRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<ValueRef<'a>> {
        if self.at >= self.bytes.len() {
            return None;
        }
        let (value, next) = decode(self.bytes, self.at).expect("a checked row");
        self.at = next;
        Some(value)
    }
}

/// The value at `at` and the offset after it.
#[inline]
fn decode(bytes: &[u8], at: usize) -> Result<(ValueRef<'_>, usize), PackError> {
    let malformed = |what| PackError::Malformed { at, what };
    let fixed = |n: usize| bytes.get(at + 1..at + 1 + n).ok_or_else(|| malformed("truncated value"));
    let word = |n| fixed(n).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    let counted = || -> Result<(&[u8], usize), PackError> {
        let len = u32::from_le_bytes(fixed(4)?.try_into().expect("4 bytes")) as usize;
        let start = at + 5;
        let payload = bytes.get(start..).and_then(|rest| rest.get(..len)).ok_or_else(|| malformed("length past the end of the row"))?;
        Ok((payload, start + len))
    };
    Ok(match bytes[at] {
        0 => (ValueRef::Null, at + 1),
        1 => match fixed(1)?[0] {
            b @ (0 | 1) => (ValueRef::Boolean(b == 1), at + 2),
            _ => return Err(malformed("boolean neither 0 nor 1")),
        },
        2 => (ValueRef::Integer(word(8)? as i64), at + 9),
        3 => (ValueRef::Float(f64::from_bits(word(8)?)), at + 9),
        4 => {
            let (text, next) = counted()?;
            (ValueRef::Text(std::str::from_utf8(text).map_err(|_| malformed("text not UTF-8"))?), next)
        }
        5 => {
            let (json, next) = counted()?;
            (ValueRef::Json(json), next)
        }
        _ => return Err(malformed("unknown tag")),
    })
}

/// Appends one value's encoding to `out`.
#[inline]
fn encode_value(out: &mut Vec<u8>, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => out.push(0),
        ValueRef::Boolean(b) => out.extend_from_slice(&[1, u8::from(b)]),
        ValueRef::Integer(i) => {
            out.push(2);
            out.extend_from_slice(&i.to_le_bytes());
        }
        ValueRef::Float(f) => {
            out.push(3);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        ValueRef::Text(s) => {
            out.push(4);
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        ValueRef::Json(j) => {
            out.push(5);
            out.extend_from_slice(&(j.len() as u32).to_le_bytes());
            out.extend_from_slice(j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Value> {
        vec![
            Value::Text("ord-1".into()),
            Value::Null,
            Value::Boolean(true),
            Value::Integer(-7),
            Value::Float(59.98),
            Value::Json(br#"{"a":[1]}"#.to_vec()),
            Value::Text(String::new()),
        ]
    }

    #[test]
    fn values_round_trip() {
        let row = PackedRow::from_values(&sample());
        // The layout the WIT documents; guest-sdk/src/packed.rs checks the same bytes.
        assert_eq!(&row.bytes()[..11], &[4, 5, 0, 0, 0, b'o', b'r', b'd', b'-', b'1', 0]);
        assert_eq!(row.to_values(), sample());
        assert_eq!(PackedRow::new(row.bytes().to_vec(), 7).unwrap(), row);
        assert_eq!(row.get(4), Some(ValueRef::Float(59.98)));
        assert_eq!(row.get(7), None);
    }

    #[test]
    fn a_rows_key_is_its_key_columns_encodings() {
        let values = sample();
        let row = PackedRow::from_values(&values);
        let mut key = vec![7];
        row.key_into(&[3, 0], &mut key);
        assert_eq!(key.remove(0), 7, "appended");
        assert_eq!(key, PackedRow::from_values([&values[3], &values[0]]).into_bytes());
        assert_eq!(row.encoded(9), b"");
    }

    #[test]
    fn bad_bytes_are_refused_with_the_reason() {
        let row = PackedRow::from_values(&sample()).into_bytes();
        assert_eq!(PackedRow::new(row.clone(), 6), Err(PackError::Count { found: 7, expected: 6 }));
        let cases: [(&[u8], &str); 6] = [
            (&[9], "unknown tag"),
            (&[2, 1, 2], "truncated value"),
            (&[1, 2], "boolean neither 0 nor 1"),
            (&[4, 5, 0, 0, 0, b'a'], "length past the end of the row"),
            (&[4, 1, 0, 0, 0, 0xff], "text not UTF-8"),
            (&[5, 0xff, 0xff, 0xff, 0xff], "length past the end of the row"),
        ];
        for (bytes, what) in cases {
            assert_eq!(PackedRow::new(bytes.to_vec(), 1), Err(PackError::Malformed { at: 0, what }), "{bytes:?}");
        }
        assert!(matches!(PackedRow::new(row[..row.len() - 1].to_vec(), 7), Err(PackError::Malformed { .. })));
    }

    #[test]
    fn key_encoding_separates_types_and_lengths() {
        let text = |s: &str| Value::Text(s.into());
        let key = |values: &[Value]| PackedRow::from_values(values).into_bytes();
        let a = key(&[text("ab"), text("c")]);
        let b = key(&[text("a"), text("bc")]);
        assert_ne!(a, b);
        assert_ne!(key(&[Value::Integer(1)]), key(&[Value::Float(f64::from_bits(1))]));
        let reused = PackedRow::from_values_in(vec![9, 9, 9], &[text("ab"), text("c")]);
        assert_eq!(reused.into_bytes(), a, "the buffer's old bytes are replaced");
    }
}
