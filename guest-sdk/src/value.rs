/// One column value of a read-model row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A `boolean` column.
    Boolean(bool),
    /// An `integer` column (64-bit).
    Integer(i64),
    /// A `real` or `numeric` column.
    Float(f64),
    /// A `text` or `timestamptz` column (timestamps as RFC 3339 text).
    Text(String),
    /// A `json` column: raw JSON text (JSONB on PostgreSQL).
    Json(Vec<u8>),
}

impl Value {
    /// The text, if this is a text value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The number as `f64`, for integer and float values.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The integer, if this is an integer value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether this is NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<bool> for Value {
    #[inline]
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
impl From<i64> for Value {
    #[inline]
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}
impl From<i32> for Value {
    #[inline]
    fn from(v: i32) -> Self {
        Value::Integer(v.into())
    }
}
impl From<u32> for Value {
    #[inline]
    fn from(v: u32) -> Self {
        Value::Integer(v.into())
    }
}
impl From<usize> for Value {
    #[inline]
    fn from(v: usize) -> Self {
        Value::Integer(v as i64)
    }
}
impl From<f64> for Value {
    #[inline]
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<String> for Value {
    #[inline]
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    #[inline]
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<std::borrow::Cow<'_, str>> for Value {
    #[inline]
    fn from(v: std::borrow::Cow<'_, str>) -> Self {
        Value::Text(v.into_owned())
    }
}
impl From<&String> for Value {
    #[inline]
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<&serde_json::value::RawValue> for Value {
    #[inline]
    fn from(v: &serde_json::value::RawValue) -> Self {
        Value::Json(v.get().as_bytes().to_vec())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    #[inline]
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
