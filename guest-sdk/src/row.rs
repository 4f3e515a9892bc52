use crate::Value;

/// A read-model row, its columns named. Columns not set are NULL.
///
/// ```
/// use weir_sdk::Row;
/// let row = Row::new("order_summaries").set("id", "ord-1").set("total", 59.98);
/// assert_eq!(row.f64("total"), Some(59.98));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    table: String,
    values: Vec<(String, Value)>,
}

impl Row {
    /// An empty row of `table`.
    pub fn new(table: impl Into<String>) -> Self {
        Row { table: table.into(), values: Vec::new() }
    }

    /// Sets a column (replacing an earlier value) and returns the row.
    pub fn set(mut self, column: &str, value: impl Into<Value>) -> Self {
        self.put(column, value);
        self
    }

    /// Sets a column in place (replacing an earlier value).
    pub fn put(&mut self, column: &str, value: impl Into<Value>) {
        let value = value.into();
        match self.values.iter_mut().find(|(c, _)| c == column) {
            Some(slot) => slot.1 = value,
            None => self.values.push((column.to_owned(), value)),
        }
    }

    /// The table this row belongs to.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// A column's value, if the row has it.
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.values.iter().find(|(c, _)| c == column).map(|(_, v)| v)
    }

    /// A text column.
    pub fn str(&self, column: &str) -> Option<&str> {
        self.get(column).and_then(Value::as_str)
    }

    /// A numeric column as `f64`.
    pub fn f64(&self, column: &str) -> Option<f64> {
        self.get(column).and_then(Value::as_f64)
    }

    /// An integer column.
    pub fn i64(&self, column: &str) -> Option<i64> {
        self.get(column).and_then(Value::as_i64)
    }

    /// The columns and their values, in the order they were set.
    pub fn columns(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values.iter().map(|(c, v)| (c.as_str(), v))
    }

    pub(crate) fn from_positional(table: &str, columns: &[String], values: Vec<Value>) -> Self {
        Row {
            table: table.to_owned(),
            values: columns.iter().cloned().zip(values).collect(),
        }
    }

    /// Moves the values into the declared column order; unknown columns are an error.
    pub(crate) fn into_positional(self, columns: &[String]) -> Result<Vec<Value>, String> {
        let mut out = vec![Value::Null; columns.len()];
        for (column, value) in self.values {
            match columns.iter().position(|c| *c == column) {
                Some(i) => out[i] = value,
                None => {
                    return Err(format!(
                        "table `{}` has no column `{column}` (declared: {})",
                        self.table,
                        columns.join(", ")
                    ));
                }
            }
        }
        Ok(out)
    }
}
