//! The batch's own writes, kept by the host while the plugin runs: `read-model.get`
//! answers from here first, and after the call the final state per key is what goes to
//! the database (one write per key, whatever the plugin did in between).

use std::collections::HashMap;

use super::Value;

/// A row key: the table number and the key values, canonically encoded.
pub type RowKey = (u16, Vec<u8>);

/// The final change to one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Insert or replace with these values (declared column order).
    Upsert(Vec<Value>),
    /// Delete the row; the values carry the key.
    Delete(Vec<Value>),
}

/// This batch's writes so far, with an undo log for the current call.
#[derive(Debug, Default)]
pub struct Overlay {
    rows: HashMap<RowKey, Change>,
    /// Positions of the inputs whose writes are in `rows`, with what they replaced.
    undo: Vec<(RowKey, Option<Change>)>,
    /// Which inputs of the current call wrote anything.
    pub writers: Vec<u32>,
}

impl Overlay {
    /// Forgets everything: a new batch starts.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.undo.clear();
        self.writers.clear();
    }

    /// Starts a call: what it writes can be rolled back until the next `begin`.
    pub fn begin(&mut self) {
        self.undo.clear();
        self.writers.clear();
    }

    /// Undoes every write since `begin`.
    pub fn rollback(&mut self) {
        while let Some((key, previous)) = self.undo.pop() {
            match previous {
                Some(change) => self.rows.insert(key, change),
                None => self.rows.remove(&key),
            };
        }
        self.writers.clear();
    }

    /// Records a write by input `input`.
    pub fn write(&mut self, input: u32, key: RowKey, change: Change) {
        let previous = self.rows.insert(key.clone(), change);
        self.undo.push((key, previous));
        if self.writers.last() != Some(&input) {
            self.writers.push(input);
        }
    }

    /// The batch's own state of a row: `Some(None)` if deleted, `None` if untouched.
    pub fn get(&self, key: &RowKey) -> Option<Option<&Vec<Value>>> {
        self.rows.get(key).map(|c| match c {
            Change::Upsert(v) => Some(v),
            Change::Delete(_) => None,
        })
    }

    /// The final changes, by table, leaving the overlay empty.
    pub fn drain(&mut self) -> Vec<(u16, Change)> {
        self.undo.clear();
        self.writers.clear();
        let mut out: Vec<(u16, Change)> = self.rows.drain().map(|((t, _), c)| (t, c)).collect();
        out.sort_by_key(|(t, _)| *t);
        out
    }

    /// Number of rows touched.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Encodes key values so that equal keys give equal bytes (and unequal keys differ).
pub fn key_bytes<'v>(values: impl Iterator<Item = &'v Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    for v in values {
        match v {
            Value::Null => out.push(0),
            Value::Boolean(b) => out.extend_from_slice(&[1, u8::from(*b)]),
            Value::Integer(i) => {
                out.push(2);
                out.extend_from_slice(&i.to_le_bytes());
            }
            Value::Float(f) => {
                out.push(3);
                out.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            Value::Text(s) => {
                out.push(4);
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Value::Json(j) => {
                out.push(5);
                out.extend_from_slice(&(j.len() as u32).to_le_bytes());
                out.extend_from_slice(j);
            }
        }
    }
    out
}
