use std::cell::Cell;
use std::fmt;
use std::mem::ManuallyDrop;

use crate::{TableSchema, Value};

// `ManuallyDrop`: without a destructor to register, a thread local costs a plain load
// (a thread's last spare storage is left to the process's end).
thread_local! {
    /// The storage of the last row written, empty: the next row reuses it. A row is built
    /// and written per event, so this saves an allocation per event.
    static SPARE_ROW: Cell<ManuallyDrop<Vec<(Name, Value)>>> = const { Cell::new(ManuallyDrop::new(Vec::new())) };
    /// The same for the positional values handed to the backend (when it gives them back).
    static SPARE_VALUES: Cell<ManuallyDrop<Vec<Value>>> = const { Cell::new(ManuallyDrop::new(Vec::new())) };
}

/// Empty storage for a row's values.
#[inline]
fn row_storage(columns: usize) -> Vec<(Name, Value)> {
    let mut values = ManuallyDrop::into_inner(SPARE_ROW.take());
    values.reserve(columns);
    values
}

/// Keeps `values`' storage for the next row, dropping what the spare held before.
#[inline]
fn spare_row(mut values: Vec<(Name, Value)>) {
    values.clear();
    drop(ManuallyDrop::into_inner(SPARE_ROW.replace(ManuallyDrop::new(values))));
}

/// Gives back positional values a backend is done with, for the next row's.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
#[inline]
pub(crate) fn recycle(mut values: Vec<Value>) {
    values.clear();
    drop(ManuallyDrop::into_inner(SPARE_VALUES.replace(ManuallyDrop::new(values))));
}

/// A read-model row, its columns named. Columns not set are NULL.
///
/// ```
/// use weir_sdk::Row;
/// let row = Row::new("order_summaries").set("id", "ord-1").set("total", 59.98);
/// assert_eq!(row.f64("total"), Some(59.98));
/// ```
#[derive(Clone)]
pub struct Row(Repr);

#[derive(Clone)]
enum Repr {
    /// Any table, columns by name in the order set. A column set again is appended again
    /// (rows are built per event, so `set` must not search): its last value is its value.
    Named { table: Name, values: Vec<(Name, Value)> },
    /// A table the pipeline declares, as a plugin knows it in Wasm (where the schema is the
    /// instance's, known before the first row): the values already in declared order, as
    /// they are written, set in that order so far. Anything else turns the row `Named`.
    Declared(Declared),
}

#[derive(Clone)]
struct Declared {
    schema: &'static TableSchema,
    /// One per declared column, NULL where not set.
    values: Vec<Value>,
    /// Bit `i`: column `i` was set.
    set: u64,
}

/// Columns a row has room for before it grows: most rows are written whole.
const COLUMNS_HINT: usize = 8;

impl Row {
    /// An empty row of `table`.
    #[inline]
    pub fn new(table: impl AsRef<str>) -> Self {
        let table = table.as_ref();
        if let Some(schema) = crate::declared_table(table) {
            return Row::declared(schema, None);
        }
        Row(Repr::Named { table: Name::new(table), values: row_storage(COLUMNS_HINT) })
    }

    /// A row of a declared table: empty, or all of `values` (one per column).
    fn declared(schema: &'static TableSchema, values: Option<Vec<Value>>) -> Self {
        let n = schema.columns.len();
        let (values, set) = match values {
            Some(values) => (values, if n == 64 { u64::MAX } else { (1 << n) - 1 }),
            None => {
                let mut values = ManuallyDrop::into_inner(SPARE_VALUES.take());
                values.clear();
                values.resize(n, Value::Null);
                (values, 0)
            }
        };
        Row(Repr::Declared(Declared { schema, values, set }))
    }

    /// Sets a column (replacing an earlier value) and returns the row.
    #[inline]
    pub fn set(mut self, column: &str, value: impl Into<Value>) -> Self {
        self.put(column, value);
        self
    }

    /// Sets a column in place (replacing an earlier value).
    #[inline]
    pub fn put(&mut self, column: &str, value: impl Into<Value>) {
        let value = value.into();
        if let Repr::Declared(d) = &mut self.0 {
            let columns = &d.schema.columns;
            // The column after the last one set, usually.
            let next = 64 - d.set.leading_zeros() as usize;
            let at = match columns.get(next) {
                Some(c) if crate::same(c, column) => Some(next),
                _ => columns.iter().position(|c| crate::same(c, column)),
            };
            match at {
                Some(at) if at >= next || d.set & (1 << at) != 0 => {
                    d.values[at] = value;
                    d.set |= 1 << at;
                    return;
                }
                // An unknown column, or one out of declared order: by name from here on.
                _ => self.name_columns(),
            }
        }
        if let Repr::Named { values, .. } = &mut self.0 {
            values.push((Name::new(column), value));
        }
    }

    /// Turns a `Declared` row into the same row `Named`.
    fn name_columns(&mut self) {
        if let Repr::Declared(d) = &mut self.0 {
            let mut values = row_storage(COLUMNS_HINT);
            let set = d.set;
            values.extend(
                d.schema.columns.iter().zip(std::mem::take(&mut d.values)).enumerate().filter(|(i, _)| set & (1 << i) != 0).map(|(_, (c, v))| (Name::new(c), v)),
            );
            self.0 = Repr::Named { table: Name::new(&d.schema.name), values };
        }
    }

    /// The table this row belongs to.
    pub fn table(&self) -> &str {
        match &self.0 {
            Repr::Named { table, .. } => table.as_str(),
            Repr::Declared(d) => &d.schema.name,
        }
    }

    /// A column's value, if the row has it.
    pub fn get(&self, column: &str) -> Option<&Value> {
        match &self.0 {
            Repr::Named { values, .. } => values.iter().rfind(|(c, _)| c.is(column)).map(|(_, v)| v),
            Repr::Declared(d) => {
                let at = d.schema.columns.iter().position(|c| crate::same(c, column))?;
                (d.set & (1 << at) != 0).then(|| &d.values[at])
            }
        }
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
        let (named, declared) = match &self.0 {
            Repr::Named { values, .. } => (Some(values), None),
            Repr::Declared(d) => (None, Some(d)),
        };
        let named = named.into_iter().flat_map(|values| {
            values.iter().enumerate().filter_map(|(i, (c, v))| {
                let c = c.as_str();
                if values[..i].iter().any(|(earlier, _)| earlier.is(c)) {
                    return None;
                }
                let last = values[i + 1..].iter().rfind(|(later, _)| later.is(c)).map_or(v, |(_, v)| v);
                Some((c, last))
            })
        });
        let declared = declared.into_iter().flat_map(|d| {
            d.schema.columns.iter().zip(&d.values).enumerate().filter(|(i, _)| d.set & (1 << i) != 0).map(|(_, (c, v))| (c.as_str(), v))
        });
        named.chain(declared)
    }

    pub(crate) fn from_positional(table: &str, columns: &[String], values: Vec<Value>) -> Self {
        if let Some(schema) = crate::declared_table(table)
            && std::ptr::eq(schema.columns.as_slice(), columns)
            && values.len() == columns.len()
        {
            return Row::declared(schema, Some(values));
        }
        let mut row = row_storage(columns.len().max(COLUMNS_HINT));
        row.extend(columns.iter().map(|c| Name::new(c)).zip(values));
        Row(Repr::Named { table: Name::new(table), values: row })
    }

    /// Moves the values into the declared column order; unknown columns are an error.
    pub(crate) fn into_positional(mut self, columns: &[String]) -> Result<Vec<Value>, String> {
        if let Repr::Declared(d) = &mut self.0 {
            if std::ptr::eq(d.schema.columns.as_slice(), columns) {
                return Ok(std::mem::take(&mut d.values));
            }
            self.name_columns();
        }
        let Repr::Named { table, values } = &mut self.0 else { unreachable!("named above") };
        let mut out = ManuallyDrop::into_inner(SPARE_VALUES.take());
        out.clear();
        out.reserve(columns.len());
        let mut values = std::mem::take(values);
        let mut rest = values.drain(..);
        // Columns are usually set in declared order: push while they are.
        while let Some((column, value)) = rest.next() {
            if let Some(next) = columns.get(out.len())
                && column.is(next)
            {
                out.push(value);
                continue;
            }
            // Otherwise by name, each one where its name says (a later value wins).
            out.resize(columns.len(), Value::Null);
            for (column, value) in std::iter::once((column, value)).chain(rest.by_ref()) {
                match columns.iter().position(|c| column.is(c)) {
                    Some(at) => out[at] = value,
                    None => {
                        return Err(format!(
                            "table `{table}` has no column `{column}` (declared: {})",
                            columns.join(", ")
                        ));
                    }
                }
            }
        }
        drop(rest);
        out.resize(columns.len(), Value::Null);
        spare_row(values);
        Ok(out)
    }
}

impl PartialEq for Row {
    fn eq(&self, other: &Self) -> bool {
        self.table() == other.table() && self.columns().eq(other.columns())
    }
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Columns<'r>(&'r Row);
        impl fmt::Debug for Columns<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.columns()).finish()
            }
        }
        f.debug_struct("Row").field("table", &self.table()).field("values", &Columns(self)).finish()
    }
}

/// Bytes of a name kept inline, without an allocation.
const INLINE: usize = 30;

/// A table or column name: inline when short (nearly always), on the heap otherwise.
/// Rows are built per event, so their names must not cost an allocation each.
#[derive(Clone)]
enum Name {
    Inline(u8, [u8; INLINE]),
    Heap(Box<str>),
}

impl Name {
    #[inline]
    fn new(name: &str) -> Self {
        if name.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..name.len()].copy_from_slice(name.as_bytes());
            Name::Inline(name.len() as u8, bytes)
        } else {
            Name::Heap(name.into())
        }
    }

    #[inline]
    fn is(&self, name: &str) -> bool {
        crate::same(self.as_str(), name)
    }

    #[inline]
    fn as_str(&self) -> &str {
        match self {
            // SAFETY: the bytes are a whole `&str`'s bytes, copied in `new`.
            Name::Inline(len, bytes) => unsafe { std::str::from_utf8_unchecked(&bytes[..*len as usize]) },
            Name::Heap(name) => name,
        }
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A declared row and a named row of the same table, built the same way, behave alike.
    #[test]
    fn declared_rows_behave_as_named_rows() {
        let schema: &'static TableSchema = Box::leak(Box::new(TableSchema {
            name: "t".into(),
            columns: ["id", "a", "b", "c"].iter().map(|c| c.to_string()).collect(),
            primary_key: vec!["id".into()],
        }));
        let other_columns: Vec<String> = schema.columns.clone();
        let names = ["id", "a", "b", "c", "nope"];
        let mut x: u32 = 12345;
        for _ in 0..3000 {
            let mut declared = Row::declared(schema, None);
            let mut named = Row(Repr::Named { table: Name::new("t"), values: Vec::new() });
            assert!(matches!(declared.0, Repr::Declared(_)));
            for step in 0..(x % 7) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let column = names[(x >> 16) as usize % names.len()];
                let value = Value::Integer(step.into());
                declared.put(column, value.clone());
                named.put(column, value);
            }
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let in_order = matches!(declared.0, Repr::Declared(_));
            assert_eq!(declared, named);
            assert_eq!(format!("{declared:?}"), format!("{named:?}"));
            assert_eq!(declared.table(), "t");
            for c in names {
                assert_eq!(declared.get(c), named.get(c), "{c}");
            }
            let columns = |r: &Row| r.columns().map(|(c, v)| (c.to_owned(), v.clone())).collect::<Vec<_>>();
            assert_eq!(columns(&declared), columns(&named));
            assert_eq!(declared.clone().into_positional(&other_columns), named.clone().into_positional(&other_columns));
            let positional = declared.clone().into_positional(&schema.columns);
            assert_eq!(positional, named.clone().into_positional(&schema.columns), "in order: {in_order}");
            if let Ok(values) = positional {
                let back = Row::declared(schema, Some(values.clone()));
                let named_back = Row::from_positional("t", &schema.columns, values);
                assert_eq!(back, named_back);
                assert_eq!(format!("{back:?}"), format!("{named_back:?}"));
            }
        }
        // Declared order is kept as such; anything else becomes named, with the same result.
        let row = Row::declared(schema, None).set("id", 1).set("b", 2).set("id", 3).set("c", 4);
        assert!(matches!(row.0, Repr::Declared(_)));
        assert_eq!(row.clone().into_positional(&schema.columns).unwrap(), vec![Value::Integer(3), Value::Null, Value::Integer(2), Value::Integer(4)]);
        let row = row.set("a", 5);
        assert!(matches!(row.0, Repr::Named { .. }));
        let cols: Vec<&str> = row.columns().map(|(c, _)| c).collect();
        assert_eq!(cols, ["id", "b", "c", "a"]);
    }

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn positional_in_any_order_and_long_names() {
        let long = "a_column_name_longer_than_thirty_bytes";
        let cols = columns(&["id", "n", long, "x"]);
        let row = Row::new("t").set("x", 1).set("id", "a").set(long, true).set("id", "b");
        assert_eq!(row.str("id"), Some("b"));
        assert_eq!(
            row.clone().into_positional(&cols).unwrap(),
            vec![Value::Text("b".into()), Value::Null, Value::Boolean(true), Value::Integer(1)]
        );
        assert_eq!(format!("{row:?}"), r#"Row { table: "t", values: [("x", Integer(1)), ("id", Text("b")), ("a_column_name_longer_than_thirty_bytes", Boolean(true))] }"#);
        let columns: Vec<(&str, &Value)> = row.columns().collect();
        assert_eq!(columns, vec![("x", &Value::Integer(1)), ("id", &Value::Text("b".into())), (long, &Value::Boolean(true))]);
        assert_eq!(row, Row::new("t").set("x", 1).set("id", "b").set(long, true));
        assert_ne!(row, Row::new("t").set("x", 1).set("id", "a").set(long, true));
        let mut again = row.clone();
        again.put("x", 2);
        assert_eq!(again.i64("x"), Some(2));
        assert_ne!(again, row);
        let back = Row::from_positional("t", &cols, row.into_positional(&cols).unwrap());
        assert_eq!(back.get(long), Some(&Value::Boolean(true)));
        let err = Row::new("t").set("nope", 1).into_positional(&cols).unwrap_err();
        assert_eq!(err, format!("table `t` has no column `nope` (declared: id, n, {long}, x)"));
    }
}
