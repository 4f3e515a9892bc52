//! Write-behind for the read model: a batch's rows and offsets are committed on a writer
//! thread while the pipeline decodes the next batch and runs the plugin on it, so the two
//! cores share the work (the plugin on one, the database on the other).
//!
//! What stays true:
//! - Rows and offsets still commit together, batch by batch, in order: the database says
//!   what was applied, and a crash replays whatever had not committed.
//! - Reads see every write: the plugin's `get` looks at the batch's own writes first (the
//!   overlay), then at the rows of batches handed to the writer and of recently committed
//!   ones ([`RowCache`]), then at the database.
//! - Kafka's copy of the offsets moves only after the database commit (see `Done`).
//! - At most [`IN_FLIGHT`] batches wait for the writer; a slow database slows the pipeline
//!   down instead of piling up memory.
//!
//! The cache holds rows this pipeline wrote. It is emptied on every partition
//! reassignment, because another process may write them once it owns their partitions.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::{OffsetAdvance, Offsets, ReadStore};
use crate::plugin::{Change, PackedRow, Value};

/// Batches that may wait for the writer besides the one it is writing.
pub const IN_FLIGHT: usize = 1;

/// Committed rows kept for reads, at most; rows of batches still being written are kept
/// besides these until they commit.
const CACHED_ROWS: usize = 50_000;

/// Committed batches kept for reads, at most: a read looks through each, so small
/// batches (a quiet topic) leave the cache by number before they reach [`CACHED_ROWS`].
const CACHED_BATCHES: usize = 64;

/// What the writer reports for a batch.
#[derive(Debug)]
pub enum Outcome {
    /// Rows and offsets are durable.
    Committed,
    /// Another consumer moved an offset: nothing of the batch was applied, and the
    /// writer discards what follows until [`WriteBehind::reset`].
    Conflict(anyhow::Error),
    /// Not applied: an earlier batch conflicted, or shutdown came during retries.
    Discarded,
}

/// A batch the writer finished with.
#[derive(Debug)]
pub struct Done {
    /// The batch's offset advances (where its partitions go back to if not committed).
    pub advances: Vec<OffsetAdvance>,
    /// What happened.
    pub outcome: Outcome,
    /// When the writer was done with it, ms since the epoch.
    pub at_unix_ms: u64,
}

/// What the pipeline tells its writer.
pub enum Command {
    /// Apply a batch (in submission order).
    Write {
        /// Submission number.
        seq: u64,
        /// The rows (shared with the cache, not copied).
        changes: Batch,
        /// The offsets, moved in the same transaction.
        advances: Vec<OffsetAdvance>,
    },
    /// Accept batches again after a conflict.
    Reset,
}

/// A batch's final changes, shared by the writer and the cache.
pub type Batch = Arc<Vec<(u16, Change)>>;

/// Rows of the batches this pipeline handed to the writer: those not committed yet and
/// the most recently committed ones. Each batch keeps its own index of its rows by key,
/// built once when it is handed over, and a read looks through the batches newest first;
/// so a batch costs no work per row beyond its index, and leaving the cache is dropping it.
pub struct RowCache {
    /// Oldest first.
    batches: VecDeque<CachedBatch>,
    /// Rows of the committed batches held.
    committed_rows: usize,
    /// Committed batches held.
    committed_batches: usize,
    /// Primary-key column positions, by table.
    key_positions: Vec<Vec<usize>>,
    hasher: foldhash::fast::RandomState,
    /// Reused for the keys of the rows a lookup compares.
    scratch: Vec<u8>,
}

/// One batch in the cache.
struct CachedBatch {
    seq: u64,
    batch: Batch,
    committed: bool,
    /// Open addressing, linear probing, over the batch's rows: 0 is empty, else a row's
    /// position + 1. Its length is a power of two at least twice the number of rows.
    slots: Vec<u32>,
    /// The hash of each row's [`cache_key`], by position.
    hashes: Vec<u64>,
}

/// Into `out`: the table number, then the key (its values packed).
fn cache_key(out: &mut Vec<u8>, table: u16, key: &PackedRow) {
    out.clear();
    out.extend_from_slice(&table.to_le_bytes());
    out.extend_from_slice(key.bytes());
}

/// [`cache_key`] of a written row: the table number, then its key columns' encodings.
fn row_cache_key(out: &mut Vec<u8>, table: u16, row: &PackedRow, key_positions: &[usize]) {
    out.clear();
    out.extend_from_slice(&table.to_le_bytes());
    row.key_into(key_positions, out);
}

impl RowCache {
    fn new(key_positions: Vec<Vec<usize>>) -> Self {
        RowCache { batches: VecDeque::new(), committed_rows: 0, committed_batches: 0, key_positions, hasher: Default::default(), scratch: Vec::new() }
    }

    fn clear(&mut self) {
        self.batches.clear();
        self.committed_rows = 0;
        self.committed_batches = 0;
    }

    /// Rows held, committed or not (a row written by several batches counts in each).
    #[cfg(test)]
    fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.batch.len()).sum()
    }

    /// Indexes a batch handed to the writer (an empty one is not kept). The overlay gives
    /// a batch one change per row, so no key repeats within a batch.
    fn add(&mut self, seq: u64, batch: Batch) {
        if batch.is_empty() {
            return;
        }
        let buckets = (batch.len() * 2).next_power_of_two().max(16);
        let mut slots = vec![0u32; buckets];
        let mut hashes = Vec::with_capacity(batch.len());
        for (position, (table, change)) in batch.iter().enumerate() {
            let (Change::Upsert(row) | Change::Delete(row)) = change;
            row_cache_key(&mut self.scratch, *table, row, &self.key_positions[*table as usize]);
            let hash = self.hasher.hash_one(self.scratch.as_slice());
            hashes.push(hash);
            let mut at = hash as usize & (buckets - 1);
            while slots[at] != 0 {
                at = (at + 1) & (buckets - 1);
            }
            slots[at] = position as u32 + 1;
        }
        self.batches.push_back(CachedBatch { seq, batch, committed: false, slots, hashes });
    }

    /// Marks batch `seq` committed; forgets the oldest committed batches while they hold
    /// more than [`CACHED_ROWS`] rows or number more than [`CACHED_BATCHES`].
    fn committed(&mut self, seq: u64) {
        if let Some(b) = self.batches.iter_mut().find(|b| b.seq == seq && !b.committed) {
            b.committed = true;
            self.committed_rows += b.batch.len();
            self.committed_batches += 1;
        }
        while (self.committed_rows > CACHED_ROWS || self.committed_batches > CACHED_BATCHES)
            && self.batches.front().is_some_and(|b| b.committed)
        {
            let old = self.batches.pop_front().expect("a front batch");
            self.committed_rows -= old.batch.len();
            self.committed_batches -= 1;
        }
    }

    /// The latest cached change to the row with this [`cache_key`]: `Some(None)` if it
    /// was deleted, `None` if no cached batch wrote it.
    fn get(&mut self, key: &[u8]) -> Option<Option<PackedRow>> {
        let hash = self.hasher.hash_one(key);
        for b in self.batches.iter().rev() {
            let mask = b.slots.len() - 1;
            let mut at = hash as usize & mask;
            loop {
                let position = match b.slots[at] {
                    0 => break,
                    n => n as usize - 1,
                };
                if b.hashes[position] == hash {
                    let (table, change) = &b.batch[position];
                    let (Change::Upsert(row) | Change::Delete(row)) = change;
                    row_cache_key(&mut self.scratch, *table, row, &self.key_positions[*table as usize]);
                    if self.scratch == key {
                        return Some(match change {
                            Change::Upsert(row) => Some(row.clone()),
                            Change::Delete(_) => None,
                        });
                    }
                }
                at = (at + 1) & mask;
            }
        }
        None
    }
}

/// Batches handed to the writer and not yet finished by it, for whoever must wait until
/// the database holds everything: a consumer giving its partitions up in a rebalance
/// waits here, so that the next owner reads what this process wrote.
#[derive(Default)]
pub struct InFlight {
    count: Mutex<usize>,
    finished: Condvar,
}

impl InFlight {
    fn add(&self) {
        *self.count.lock().expect("lock") += 1;
    }

    fn done(&self) {
        let mut count = self.count.lock().expect("lock");
        *count = count.saturating_sub(1);
        self.finished.notify_all();
    }

    /// Waits until the writer finished every batch handed to it, at most `timeout`;
    /// whether it did.
    pub fn wait(&self, timeout: Duration) -> bool {
        let count = self.count.lock().expect("lock");
        let (count, _) = self.finished.wait_timeout_while(count, timeout, |c| *c > 0).expect("lock");
        *count == 0
    }
}

/// The pipeline's side of the writer.
pub struct WriteBehind {
    commands: SyncSender<Command>,
    done: Receiver<(u64, Done)>,
    cache: Arc<Mutex<RowCache>>,
    /// Submission numbers of the batches submitted and not reported yet, oldest first.
    pending: VecDeque<u64>,
    next_seq: u64,
    in_flight: Arc<InFlight>,
}

/// The writer thread's body: applies batches in order until the pipeline hangs up.
/// `apply` is the retrying commit (`None`: shutdown during retries).
pub fn writer(
    commands: Receiver<Command>,
    done: std::sync::mpsc::Sender<(u64, Done)>,
    in_flight: &InFlight,
    mut apply: impl FnMut(&[(u16, Change)], &[OffsetAdvance]) -> Option<anyhow::Result<()>>,
) {
    let mut accepting = true;
    for command in commands {
        let (seq, changes, advances) = match command {
            Command::Reset => {
                accepting = true;
                continue;
            }
            Command::Write { seq, changes, advances } => (seq, changes, advances),
        };
        let outcome = if !accepting {
            Outcome::Discarded
        } else {
            match apply(&changes, &advances) {
                Some(Ok(())) => Outcome::Committed,
                Some(Err(conflict)) => {
                    accepting = false;
                    Outcome::Conflict(conflict)
                }
                None => {
                    accepting = false;
                    Outcome::Discarded
                }
            }
        };
        in_flight.done();
        if done.send((seq, Done { advances, outcome, at_unix_ms: unix_ms() })).is_err() {
            return;
        }
    }
}

/// The channels between the pipeline and its writer thread: the pipeline's end, and the
/// writer's (to pass to [`writer`]). `in_flight` counts what the writer has yet to finish.
pub fn channels(key_positions: Vec<Vec<usize>>, in_flight: Arc<InFlight>) -> (WriteBehind, Receiver<Command>, std::sync::mpsc::Sender<(u64, Done)>) {
    let (commands, commands_rx) = std::sync::mpsc::sync_channel(IN_FLIGHT);
    let (done_tx, done) = std::sync::mpsc::channel();
    let cache = Arc::new(Mutex::new(RowCache::new(key_positions)));
    let wb = WriteBehind { commands, done, cache, pending: VecDeque::new(), next_seq: 0, in_flight };
    (wb, commands_rx, done_tx)
}

impl WriteBehind {
    /// A read store that serves this pipeline's cached rows before `store`'s.
    pub fn reader(&self, store: Box<dyn ReadStore>) -> Box<dyn ReadStore> {
        Box::new(CachedReader { store, cache: self.cache.clone(), key: Vec::new() })
    }

    /// Whether batches wait for the writer.
    pub fn busy(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Hands a batch's changes and offset advances to the writer; waits while
    /// [`IN_FLIGHT`] batches already wait. Its rows are readable from now on.
    pub fn submit(&mut self, changes: Vec<(u16, Change)>, advances: Vec<OffsetAdvance>) -> anyhow::Result<()> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let batch: Batch = Arc::new(changes);
        self.cache.lock().expect("lock").add(seq, batch.clone());
        self.pending.push_back(seq);
        self.in_flight.add();
        self.commands.send(Command::Write { seq, changes: batch, advances }).map_err(|_| anyhow::anyhow!("the read-model writer stopped"))
    }

    /// What the writer finished: without waiting, or (`wait`) everything submitted.
    pub fn finished(&mut self, wait: bool) -> anyhow::Result<Vec<Done>> {
        let mut finished = Vec::new();
        while !self.pending.is_empty() {
            let (seq, done) = if wait {
                self.done.recv().map_err(|_| anyhow::anyhow!("the read-model writer stopped"))?
            } else {
                match self.done.try_recv() {
                    Ok(d) => d,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => anyhow::bail!("the read-model writer stopped"),
                }
            };
            let expected = self.pending.pop_front().expect("pending");
            debug_assert_eq!(seq, expected, "the writer reports in order");
            if matches!(done.outcome, Outcome::Committed) {
                self.cache.lock().expect("lock").committed(seq);
            }
            finished.push(done);
        }
        Ok(finished)
    }

    /// Forgets every cached row (after a reassignment or a conflict: the database is the
    /// truth again) and lets the writer accept batches again. Call with nothing pending.
    pub fn reset(&mut self) -> anyhow::Result<()> {
        debug_assert!(self.pending.is_empty());
        self.cache.lock().expect("lock").clear();
        self.commands.send(Command::Reset).map_err(|_| anyhow::anyhow!("the read-model writer stopped"))
    }
}

/// The plugin's reads: cached rows first, then the database.
struct CachedReader {
    store: Box<dyn ReadStore>,
    cache: Arc<Mutex<RowCache>>,
    key: Vec<u8>,
}

impl ReadStore for CachedReader {
    fn get(&mut self, table: usize, key: &PackedRow) -> anyhow::Result<Option<PackedRow>> {
        cache_key(&mut self.key, table as u16, key);
        if let Some(cached) = self.cache.lock().expect("lock").get(&self.key) {
            return Ok(cached);
        }
        self.store.get(table, key)
    }
    fn apply(&mut self, _: &[(u16, Change)], _: &str, _: &[OffsetAdvance], _: &[&str]) -> anyhow::Result<()> {
        anyhow::bail!("with write-behind, batches are applied by the writer")
    }
    fn applied_ids(&mut self, group: &str, ids: &[&str]) -> anyhow::Result<std::collections::HashSet<String>> {
        self.store.applied_ids(group, ids)
    }
    fn offsets(&mut self, group: &str) -> anyhow::Result<Offsets> {
        self.store.offsets(group)
    }
    fn scan(&mut self, table: usize) -> anyhow::Result<Vec<Vec<Value>>> {
        self.store.scan(table)
    }
}

/// Wall-clock milliseconds since the epoch, as commit times are reported.
pub fn unix_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use crate::plugin::ValueRef;
    use crate::sink::sql::OffsetConflict;

    /// A database of one table keyed by its first column, and a log of applied batches.
    #[derive(Default, Clone)]
    struct Fake {
        rows: Arc<Mutex<HashMap<String, PackedRow>>>,
        offsets: Arc<Mutex<Offsets>>,
    }

    impl ReadStore for Fake {
        fn get(&mut self, _: usize, key: &PackedRow) -> anyhow::Result<Option<PackedRow>> {
            let Some(ValueRef::Text(k)) = key.get(0) else { panic!("text keys") };
            Ok(self.rows.lock().unwrap().get(k).cloned())
        }
        fn apply(&mut self, changes: &[(u16, Change)], _: &str, offsets: &[OffsetAdvance], _: &[&str]) -> anyhow::Result<()> {
            let mut stored = self.offsets.lock().unwrap();
            for o in offsets {
                if stored.get(&(o.topic.clone(), o.partition)).copied() != o.from {
                    return Err(OffsetConflict { topic: o.topic.clone(), partition: o.partition }.into());
                }
            }
            for o in offsets {
                stored.insert((o.topic.clone(), o.partition), o.to);
            }
            let mut rows = self.rows.lock().unwrap();
            for (_, c) in changes {
                match c {
                    Change::Upsert(v) => {
                        let Some(ValueRef::Text(k)) = v.get(0) else { panic!() };
                        rows.insert(k.to_owned(), v.clone());
                    }
                    Change::Delete(v) => {
                        let Some(ValueRef::Text(k)) = v.get(0) else { panic!() };
                        rows.remove(k);
                    }
                }
            }
            Ok(())
        }
        fn applied_ids(&mut self, _: &str, _: &[&str]) -> anyhow::Result<std::collections::HashSet<String>> {
            Ok(Default::default())
        }
        fn offsets(&mut self, _: &str) -> anyhow::Result<Offsets> {
            Ok(self.offsets.lock().unwrap().clone())
        }
        fn scan(&mut self, _: usize) -> anyhow::Result<Vec<Vec<Value>>> {
            Ok(Vec::new())
        }
    }

    fn row(k: &str, n: i64) -> PackedRow {
        PackedRow::from_values(&[Value::Text(k.into()), Value::Integer(n)])
    }

    /// The key of `row(k, _)`.
    fn key(k: &str) -> PackedRow {
        PackedRow::from_values(&[Value::Text(k.into())])
    }

    fn advance(from: Option<i64>, to: i64) -> Vec<OffsetAdvance> {
        vec![OffsetAdvance { topic: "t".into(), partition: 0, from, to }]
    }

    /// A writer thread on `db` that waits for `gate` before each batch.
    fn start(db: &Fake, gate: Option<std::sync::mpsc::Receiver<()>>) -> (WriteBehind, Box<dyn ReadStore>, std::thread::JoinHandle<()>) {
        let (wb, commands, done) = channels(vec![vec![0]], Arc::default());
        let reader = wb.reader(Box::new(db.clone()));
        let mut store = db.clone();
        let in_flight = wb.in_flight.clone();
        let thread = std::thread::spawn(move || {
            writer(commands, done, &in_flight, |changes, advances| {
                if let Some(g) = &gate {
                    g.recv().ok()?;
                }
                Some(store.apply_unless_conflict(changes, "g", advances, &[]).expect("the fake fails only with conflicts"))
            })
        });
        (wb, reader, thread)
    }

    #[test]
    fn reads_see_batches_the_writer_has_not_committed_yet() {
        let db = Fake::default();
        let (gate_tx, gate) = std::sync::mpsc::channel();
        let (mut wb, mut reader, thread) = start(&db, Some(gate));
        wb.submit(vec![(0, Change::Upsert(row("a", 1))), (0, Change::Upsert(row("b", 1)))], advance(None, 2)).unwrap();
        wb.submit(vec![(0, Change::Delete(row("b", 0)))], advance(Some(2), 3)).unwrap();
        // Nothing is in the database yet, but the plugin reads what it wrote.
        assert!(db.rows.lock().unwrap().is_empty());
        assert_eq!(reader.get(0, &key("a")).unwrap(), Some(row("a", 1)));
        assert_eq!(reader.get(0, &key("b")).unwrap(), None, "deleted by the later batch");
        assert!(wb.finished(false).unwrap().is_empty() && wb.busy());
        assert!(!wb.in_flight.wait(Duration::from_millis(50)), "a revoke would wait for these two");
        gate_tx.send(()).unwrap();
        gate_tx.send(()).unwrap();
        assert!(wb.in_flight.wait(Duration::from_secs(10)), "both written");
        let done = wb.finished(true).unwrap();
        assert!(done.iter().all(|d| matches!(d.outcome, Outcome::Committed)), "{done:?}");
        assert!(!wb.busy());
        assert_eq!(db.rows.lock().unwrap().len(), 1);
        assert_eq!(db.offsets.lock().unwrap()[&("t".to_owned(), 0)], 3);
        // Committed rows stay readable from the cache; a reset leaves the database.
        db.rows.lock().unwrap().insert("a".into(), row("a", 7));
        assert_eq!(reader.get(0, &key("a")).unwrap(), Some(row("a", 1)));
        wb.reset().unwrap();
        assert_eq!(reader.get(0, &key("a")).unwrap(), Some(row("a", 7)));
        drop(wb);
        thread.join().unwrap();
    }

    #[test]
    fn after_a_conflict_later_batches_are_discarded_until_reset() {
        let db = Fake::default();
        db.offsets.lock().unwrap().insert(("t".into(), 0), 10); // another consumer got there
        let (mut wb, _reader, thread) = start(&db, None);
        wb.submit(vec![(0, Change::Upsert(row("a", 1)))], advance(Some(5), 8)).unwrap();
        wb.submit(vec![(0, Change::Upsert(row("c", 1)))], advance(Some(10), 12)).unwrap();
        let done = wb.finished(true).unwrap();
        assert!(matches!(done[0].outcome, Outcome::Conflict(_)), "{done:?}");
        assert!(matches!(done[1].outcome, Outcome::Discarded), "would apply on top of a rolled-back batch: {done:?}");
        assert!(db.rows.lock().unwrap().is_empty());
        wb.reset().unwrap();
        wb.submit(vec![(0, Change::Upsert(row("c", 1)))], advance(Some(10), 12)).unwrap();
        assert!(matches!(wb.finished(true).unwrap()[0].outcome, Outcome::Committed));
        assert_eq!(db.rows.lock().unwrap().len(), 1);
        drop(wb);
        thread.join().unwrap();
    }

    #[test]
    fn committed_rows_beyond_the_cache_size_are_read_from_the_database() {
        let db = Fake::default();
        let (mut wb, mut reader, thread) = start(&db, None);
        let mut from = None;
        for batch in 0..(CACHED_ROWS / 1000 + 2) as i64 {
            let changes = (0..1000).map(|i| (0, Change::Upsert(row(&format!("k{batch}-{i}"), batch)))).collect();
            wb.submit(changes, advance(from, (batch + 1) * 1000)).unwrap();
            from = Some((batch + 1) * 1000);
            wb.finished(true).unwrap();
        }
        assert!(wb.cache.lock().unwrap().rows() <= CACHED_ROWS);
        // The oldest rows left the cache; the database still has them.
        db.rows.lock().unwrap().insert("k0-0".into(), row("k0-0", 99));
        assert_eq!(reader.get(0, &key("k0-0")).unwrap(), Some(row("k0-0", 99)));
        drop(wb);
        thread.join().unwrap();
    }

    #[test]
    fn the_cache_serves_the_newest_write_per_table_and_key_and_evicts_whole_batches_by_rows_and_number() {
        let mut cache = RowCache::new(vec![vec![0], vec![1, 0]]);
        let two = |a: &str, b: i64| PackedRow::from_values(&[Value::Text(a.into()), Value::Integer(b)]);
        let key = |table: u16, values: &[Value]| {
            let mut k = Vec::new();
            cache_key(&mut k, table, &PackedRow::from_values(values));
            k
        };
        let rows_a: Vec<(u16, Change)> = (0..600).map(|i| (0, Change::Upsert(two(&format!("k{i}"), 1)))).collect();
        cache.add(0, Arc::new(rows_a));
        // Table 1's key is (column 1, column 0): the same values as table 0's row "k1" differ by table.
        cache.add(1, Arc::new(vec![(1, Change::Upsert(two("k1", 7))), (0, Change::Delete(two("k2", 0))), (0, Change::Upsert(two("k3", 2)))]));
        let text = |s: &str| Value::Text(s.into());
        assert_eq!(cache.get(&key(0, &[text("k1")])), Some(Some(two("k1", 1))));
        assert_eq!(cache.get(&key(1, &[Value::Integer(7), text("k1")])), Some(Some(two("k1", 7))));
        assert_eq!(cache.get(&key(0, &[text("k2")])), Some(None), "deleted by the newer batch");
        assert_eq!(cache.get(&key(0, &[text("k3")])), Some(Some(two("k3", 2))), "the newer batch wins");
        assert_eq!(cache.get(&key(0, &[text("k600")])), None);
        // Committed batches beyond CACHED_ROWS leave whole, oldest first; uncommitted stay.
        let big: Vec<(u16, Change)> = (0..CACHED_ROWS).map(|i| (0, Change::Upsert(two(&format!("b{i}"), 3)))).collect();
        cache.add(2, Arc::new(big));
        cache.committed(0);
        cache.committed(1);
        assert_eq!(cache.batches.len(), 3, "not over the limit yet");
        cache.committed(2);
        assert_eq!(cache.batches.iter().map(|b| b.seq).collect::<Vec<_>>(), vec![2]);
        assert_eq!(cache.get(&key(0, &[text("k1")])), None, "left with its batch");
        assert_eq!(cache.get(&key(0, &[text("b7")])), Some(Some(two("b7", 3))));
        // Empty batches are not kept; small ones leave by number.
        cache.add(3, Arc::new(Vec::new()));
        cache.committed(3);
        assert_eq!(cache.batches.len(), 1);
        for seq in 4..4 + CACHED_BATCHES as u64 {
            cache.add(seq, Arc::new(vec![(0, Change::Upsert(two(&format!("s{seq}"), 4)))]));
            cache.committed(seq);
        }
        assert_eq!(cache.batches.len(), CACHED_BATCHES);
        assert_eq!(cache.get(&key(0, &[text("b7")])), None, "the big batch left by number");
        assert_eq!(cache.get(&key(0, &[text("s4")])), Some(Some(two("s4", 4))));
    }
}
