//! A small typed reader over a parsed TOML document that records every error (wrong type,
//! missing key, unknown key, bad value) instead of stopping at the first one.

use std::ops::Range;

use toml_edit::{Item, TableLike, Value};

use super::diagnostics::Collector;

/// Reads the keys of one table and remembers which were read, so that the rest can be
/// reported as unknown.
pub struct TableReader<'t> {
    table: &'t dyn TableLike,
    /// Where the table starts (its header, or the inline table).
    pub span: Option<Range<usize>>,
    /// The table's dotted name, for messages (`pipeline`, `handler.batch`, ...).
    pub path: String,
    known: Vec<&'static str>,
    /// Set by [`TableReader::entries`]: every key is data, none is unknown.
    all_known: bool,
}

/// The span of an item, wherever toml_edit keeps it.
pub fn item_span(item: &Item) -> Option<Range<usize>> {
    match item {
        Item::Table(t) => t.span(),
        Item::Value(Value::InlineTable(t)) => t.span(),
        Item::ArrayOfTables(a) => a.span(),
        other => other.span(),
    }
}

fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(v) => match v {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a datetime",
            Value::Array(_) => "an array",
            Value::InlineTable(_) => "an inline table",
        },
    }
}

impl<'t> TableReader<'t> {
    /// Reads `table`, named `path`.
    pub fn new(table: &'t dyn TableLike, span: Option<Range<usize>>, path: impl Into<String>) -> Self {
        TableReader { table, span, path: path.into(), known: Vec::new(), all_known: false }
    }

    fn qualified(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    /// The item under `key`, marking the key as known.
    pub fn item(&mut self, key: &'static str) -> Option<&'t Item> {
        self.known.push(key);
        self.table.get(key).filter(|i| !i.is_none())
    }

    /// Reports a missing required key.
    pub fn missing(&self, cx: &mut Collector, key: &str) {
        cx.error(self.span.clone(), format!("missing required key `{}`", self.qualified(key)));
    }

    fn wrong_type(&self, cx: &mut Collector, key: &str, item: &Item, expected: &str) {
        cx.error(
            item_span(item),
            format!("`{}` must be {expected}, found {}", self.qualified(key), type_name(item)),
        );
    }

    /// A string value.
    pub fn string(&mut self, cx: &mut Collector, key: &'static str, required: bool) -> Option<Spanned<String>> {
        let item = self.item(key);
        match item {
            None => {
                if required {
                    self.missing(cx, key);
                }
                None
            }
            Some(item) => match item.as_str() {
                Some(s) => Some(Spanned { value: s.to_owned(), span: item.span() }),
                None => {
                    self.wrong_type(cx, key, item, "a string");
                    None
                }
            },
        }
    }

    /// An integer value within `range`.
    pub fn integer(
        &mut self,
        cx: &mut Collector,
        key: &'static str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let item = self.item(key)?;
        match item.as_integer() {
            Some(i) if range.contains(&i) => Some(i),
            Some(i) => {
                cx.error(
                    item.span(),
                    format!(
                        "`{}` must be between {} and {}, found {i}",
                        self.qualified(key),
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
            None => {
                self.wrong_type(cx, key, item, "an integer");
                None
            }
        }
    }

    /// A boolean.
    pub fn boolean(&mut self, cx: &mut Collector, key: &'static str) -> Option<bool> {
        let item = self.item(key)?;
        match item.as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong_type(cx, key, item, "a boolean");
                None
            }
        }
    }

    /// A number (integer or float) within `range`.
    pub fn float(&mut self, cx: &mut Collector, key: &'static str, range: std::ops::RangeInclusive<f64>) -> Option<f64> {
        let item = self.item(key)?;
        let value = item.as_float().or_else(|| item.as_integer().map(|i| i as f64));
        match value {
            Some(f) if range.contains(&f) => Some(f),
            Some(f) => {
                cx.error(
                    item.span(),
                    format!("`{}` must be between {} and {}, found {f}", self.qualified(key), range.start(), range.end()),
                );
                None
            }
            None => {
                self.wrong_type(cx, key, item, "a number");
                None
            }
        }
    }

    /// An array of strings (a single string is not accepted: say what you mean).
    pub fn strings(&mut self, cx: &mut Collector, key: &'static str, required: bool) -> Option<Vec<Spanned<String>>> {
        let Some(item) = self.item(key) else {
            if required {
                self.missing(cx, key);
            }
            return None;
        };
        let Some(array) = item.as_array() else {
            self.wrong_type(cx, key, item, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for v in array.iter() {
            match v.as_str() {
                Some(s) => out.push(Spanned { value: s.to_owned(), span: v.span() }),
                None => {
                    cx.error(
                        v.span(),
                        format!("`{}` must contain only strings", self.qualified(key)),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// A sub-table (a `[header]` table or an inline `{ ... }` table).
    pub fn table(&mut self, cx: &mut Collector, key: &'static str, required: bool) -> Option<TableReader<'t>> {
        let path = self.qualified(key);
        let Some(item) = self.item(key) else {
            if required {
                cx.error(self.span.clone(), format!("missing required table `[{path}]`"));
            }
            return None;
        };
        match item.as_table_like() {
            Some(t) => Some(TableReader::new(t, item_span(item), path)),
            None => {
                self.wrong_type(cx, key, item, "a table");
                None
            }
        }
    }

    /// The tables of an array of tables (`[[key]]`).
    pub fn tables(&mut self, cx: &mut Collector, key: &'static str) -> Vec<TableReader<'t>> {
        let path = self.qualified(key);
        match self.item(key) {
            None => Vec::new(),
            Some(Item::ArrayOfTables(array)) => array
                .iter()
                .map(|t| TableReader::new(t, t.span(), path.clone()))
                .collect(),
            Some(item) => {
                self.wrong_type(cx, key, item, "an array of tables (`[[...]]`)");
                Vec::new()
            }
        }
    }

    /// The key-value pairs of this table in file order, marking them all as known.
    pub fn entries(&mut self) -> Vec<(String, Option<Range<usize>>, &'t Item)> {
        self.all_known = true;
        self.table
            .iter()
            .map(|(k, item)| {
                let span = self.table.get_key_value(k).and_then(|(key, _)| key.span());
                (k.to_owned(), span, item)
            })
            .collect()
    }

    /// Reports every key that was not read as unknown, naming the keys that are allowed.
    pub fn finish(self, cx: &mut Collector) {
        if self.all_known {
            return;
        }
        for (key, _) in self.table.iter() {
            if !self.known.contains(&key) {
                let span = self.table.get_key_value(key).and_then(|(k, _)| k.span());
                let hint = closest(key, &self.known)
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .unwrap_or_else(|| format!(" (known keys: {})", self.known.join(", ")));
                cx.error(span, format!("unknown key `{}`{hint}", self.qualified(key)));
            }
        }
    }
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Its byte span in the file.
    pub span: Option<Range<usize>>,
}

/// The known key nearest to `key` in edit distance, if it is near enough to be a typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) || k.starts_with(key) || key.starts_with(k))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
