//! The batch's own writes, kept by the host while the plugin runs: `read-model.get`
//! answers from here first, and after the call the final state per key is what goes to
//! the database (one write per key, whatever the plugin did in between).
//!
//! Every `upsert` and every `get` of a plugin lands here, so it is built for that: rows in
//! a vector in the order they were first written, their keys in one byte buffer, and a
//! small open-addressing table (seeded per overlay) from key to row. A write of a row seen
//! before and a lookup allocate nothing.

use std::hash::BuildHasher;

use super::packed::PackedRow;

/// The final change to one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Insert or replace with these values (declared column order).
    Upsert(PackedRow),
    /// Delete the row; the values carry the key.
    Delete(PackedRow),
}

/// One row the batch wrote.
#[derive(Debug)]
struct Slot {
    table: u16,
    hash: u64,
    /// The encoded key (the key values as a [`PackedRow`]) at `keys[key_start..key_start + key_len]`.
    key_start: u32,
    key_len: u32,
    change: Change,
}

/// This batch's writes so far, with an undo log for the current call.
#[derive(Debug)]
pub struct Overlay {
    slots: Vec<Slot>,
    keys: Vec<u8>,
    /// Open addressing, linear probing: 0 is empty, else a slot's position + 1. Its length
    /// is 0 or a power of two at least twice the number of slots.
    buckets: Vec<u32>,
    seed: (u64, u64),
    /// What each write of the current call replaced: the slot, and its earlier change
    /// (`None`: the write created the slot).
    undo: Vec<(u32, Option<Change>)>,
    /// Which inputs of the current call wrote anything.
    pub writers: Vec<u32>,
}

impl Default for Overlay {
    fn default() -> Self {
        // Keys come from event data: seed the hash per overlay, as std's `RandomState` does.
        let random = std::collections::hash_map::RandomState::new();
        let seed = (random.hash_one(0x5745_4952_u64) | 1, random.hash_one(0x4f56_4552_u64) | 1);
        Overlay { slots: Vec::new(), keys: Vec::new(), buckets: Vec::new(), seed, undo: Vec::new(), writers: Vec::new() }
    }
}

impl Overlay {
    /// Forgets everything: a new batch starts.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.keys.clear();
        self.undo.clear();
        self.writers.clear();
        // Keep the table's memory unless a far larger batch left it oversized.
        if self.buckets.len() > 1 << 16 {
            self.buckets = Vec::new();
        } else {
            self.buckets.fill(0);
        }
    }

    /// Starts a call: what it writes can be rolled back until the next `begin`.
    pub fn begin(&mut self) {
        self.undo.clear();
        self.writers.clear();
    }

    /// Undoes every write since `begin`.
    pub fn rollback(&mut self) {
        let mut removed = false;
        while let Some((slot, previous)) = self.undo.pop() {
            match previous {
                Some(change) => self.slots[slot as usize].change = change,
                None => {
                    // Slots are created in write order, so undoing in reverse meets the
                    // newest slot first.
                    let gone = self.slots.pop().expect("undo of a created slot");
                    debug_assert_eq!(slot as usize, self.slots.len());
                    self.keys.truncate(gone.key_start as usize);
                    removed = true;
                }
            }
        }
        if removed {
            self.rehash(self.buckets.len());
        }
        self.writers.clear();
    }

    /// Records a write by input `input` to the row of `table` whose encoded key is `key`.
    pub fn write(&mut self, input: u32, table: u16, key: &[u8], change: Change) {
        if self.buckets.is_empty() {
            self.rehash(16);
        }
        let hash = self.hash(table, key);
        let previous = match self.find(table, hash, key) {
            Ok(slot) => Some((slot, std::mem::replace(&mut self.slots[slot as usize].change, change))),
            Err(bucket) => {
                let slot = self.slots.len() as u32;
                let key_start = self.keys.len() as u32;
                self.keys.extend_from_slice(key);
                self.slots.push(Slot { table, hash, key_start, key_len: key.len() as u32, change });
                self.buckets[bucket] = slot + 1;
                if self.slots.len() * 2 > self.buckets.len() {
                    self.rehash(self.buckets.len() * 2);
                }
                self.undo.push((slot, None));
                None
            }
        };
        if let Some((slot, change)) = previous {
            self.undo.push((slot, Some(change)));
        }
        if self.writers.last() != Some(&input) {
            self.writers.push(input);
        }
    }

    /// The batch's own state of a row: `Some(None)` if deleted, `None` if untouched.
    pub fn get(&self, table: u16, key: &[u8]) -> Option<Option<&PackedRow>> {
        if self.buckets.is_empty() {
            return None;
        }
        let slot = self.find(table, self.hash(table, key), key).ok()?;
        Some(match &self.slots[slot as usize].change {
            Change::Upsert(v) => Some(v),
            Change::Delete(_) => None,
        })
    }

    /// The final changes, by table (in first-write order within a table), leaving the
    /// overlay empty.
    pub fn drain(&mut self) -> Vec<(u16, Change)> {
        self.undo.clear();
        self.writers.clear();
        self.keys.clear();
        self.buckets.fill(0);
        let mut out: Vec<(u16, Change)> = self.slots.drain(..).map(|s| (s.table, s.change)).collect();
        if !out.is_sorted_by_key(|(t, _)| *t) {
            out.sort_by_key(|(t, _)| *t);
        }
        out
    }

    /// Number of rows touched.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slot holding the key, or the empty bucket where it would go. The table must
    /// have buckets (it always has empty ones).
    fn find(&self, table: u16, hash: u64, key: &[u8]) -> Result<u32, usize> {
        let mask = self.buckets.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            match self.buckets[at] {
                0 => return Err(at),
                n => {
                    let s = &self.slots[n as usize - 1];
                    if s.hash == hash
                        && s.table == table
                        && &self.keys[s.key_start as usize..(s.key_start + s.key_len) as usize] == key
                    {
                        return Ok(n - 1);
                    }
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// Rebuilds the table with `len` buckets (at least 16, and twice the slots).
    fn rehash(&mut self, len: usize) {
        let len = len.max(16).max((self.slots.len() * 2).next_power_of_two());
        self.buckets.clear();
        self.buckets.resize(len, 0);
        let mask = len - 1;
        for (i, s) in self.slots.iter().enumerate() {
            let mut at = s.hash as usize & mask;
            while self.buckets[at] != 0 {
                at = (at + 1) & mask;
            }
            self.buckets[at] = i as u32 + 1;
        }
    }

    fn hash(&self, table: u16, key: &[u8]) -> u64 {
        // A folded multiply per 8 bytes (as foldhash and wyhash do), keyed by the seed.
        let fold = |a: u64, b: u64| {
            let r = u128::from(a) * u128::from(b);
            (r as u64) ^ ((r >> 64) as u64)
        };
        let (s0, s1) = self.seed;
        let mut h = s0 ^ (u64::from(table) << 32) ^ key.len() as u64;
        let mut chunks = key.chunks_exact(8);
        for c in &mut chunks {
            h = fold(h ^ u64::from_le_bytes(c.try_into().expect("8 bytes")), s1);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            h = fold(h ^ u64::from_le_bytes(last), s1);
        }
        fold(h ^ s1, s0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::Value;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn packed(values: Vec<Value>) -> PackedRow {
        PackedRow::from_values(&values)
    }

    fn key(s: &str) -> Vec<u8> {
        packed(vec![text(s)]).into_bytes()
    }

    fn upsert(s: &str, n: i64) -> Change {
        Change::Upsert(packed(vec![text(s), Value::Integer(n)]))
    }

    #[test]
    fn writes_reads_and_rolls_back() {
        let mut o = Overlay::default();
        o.begin();
        for i in 0..1000 {
            o.write(i, (i % 3) as u16, &key(&format!("k{i}")), upsert(&format!("k{i}"), i.into()));
        }
        assert_eq!(o.len(), 1000);
        assert_eq!(o.get(1, &key("k1")), Some(Some(&packed(vec![text("k1"), Value::Integer(1)]))));
        assert_eq!(o.get(0, &key("k1")), None, "the table is part of the key");
        assert_eq!(o.get(1, &key("k1000")), None);

        // A second call: overwrite one row, delete one, add one, then roll it back.
        o.begin();
        o.write(5, 1, &key("k1"), upsert("k1", 100));
        o.write(6, 2, &key("k2"), Change::Delete(packed(vec![text("k2"), Value::Null])));
        o.write(6, 0, &key("new"), upsert("new", 7));
        o.write(7, 0, &key("new"), upsert("new", 8));
        assert_eq!(o.writers, vec![5, 6, 7]);
        assert_eq!(o.get(1, &key("k1")), Some(Some(&packed(vec![text("k1"), Value::Integer(100)]))));
        assert_eq!(o.get(2, &key("k2")), Some(None));
        assert_eq!(o.get(0, &key("new")), Some(Some(&packed(vec![text("new"), Value::Integer(8)]))));
        assert_eq!(o.len(), 1001);
        o.rollback();
        assert_eq!(o.len(), 1000);
        assert_eq!(o.get(0, &key("new")), None);
        assert_eq!(o.get(1, &key("k1")), Some(Some(&packed(vec![text("k1"), Value::Integer(1)]))));
        assert_eq!(o.get(2, &key("k2")), Some(Some(&packed(vec![text("k2"), Value::Integer(2)]))));
        for i in 0..1000 {
            assert!(o.get((i % 3) as u16, &key(&format!("k{i}"))).is_some(), "k{i} survives the rollback");
        }
        // Writes after a rollback land as before.
        o.begin();
        o.write(8, 0, &key("new"), upsert("new", 9));
        assert_eq!(o.get(0, &key("new")), Some(Some(&packed(vec![text("new"), Value::Integer(9)]))));

        let changes = o.drain();
        assert_eq!(changes.len(), 1001);
        assert!(changes.is_sorted_by_key(|(t, _)| *t));
        assert!(o.is_empty());
        assert_eq!(o.get(0, &key("new")), None);
        o.write(0, 0, &key("again"), upsert("again", 1));
        assert_eq!(o.len(), 1);
        o.clear();
        assert_eq!(o.get(0, &key("again")), None);
    }
}
