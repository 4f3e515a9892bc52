//! The native baseline: the order-summary consumer a careful Rust user writes by hand
//! (rdkafka, serde_json, rusqlite or postgres), with weir's batching (up to 1,000 records
//! or 20 ms), one database transaction per batch and the Kafka offsets committed after it.
//! It is the limit weir is measured against. Same command-line contract as the Python and
//! Node baselines (bench/baselines/README.md): one JSON line on stdout at the end.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{Sink, unix_ms};

/// Options of `weir-bench native`.
#[derive(Debug, clap::Args)]
pub struct NativeArgs {
    /// Bootstrap servers.
    #[arg(long)]
    pub brokers: String,
    /// The topic to consume from its start.
    #[arg(long)]
    pub topic: String,
    /// The consumer group.
    #[arg(long)]
    pub group: String,
    /// The read model: `sqlite://PATH` or `postgres://...`.
    #[arg(long)]
    pub database: String,
    /// Stop once this many events are applied and committed.
    #[arg(long)]
    pub expect: u64,
    /// Give up (exit 1) after this long without a record.
    #[arg(long, default_value_t = 30_000)]
    pub idle_exit_ms: u64,
    /// A batch closes this long after its first record (or at 1,000 records), as weir's
    /// `batch.max_wait_ms`.
    #[arg(long, default_value_t = crate::e2e::BATCH_WAIT_MS)]
    pub batch_wait_ms: u64,
    /// librdkafka's `fetch.wait.max.ms`, as weir's pipelines get it.
    #[arg(long, default_value_t = crate::e2e::FETCH_WAIT_MS)]
    pub fetch_wait_ms: u64,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "eventType", borrow)]
    event_type: &'a str,
    #[serde(borrow)]
    timestamp: &'a str,
    #[serde(borrow)]
    data: &'a RawValue,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Placed<'a> {
    #[serde(borrow)]
    order_id: &'a str,
    #[serde(borrow)]
    user_id: Option<&'a str>,
    #[serde(default)]
    items: Vec<serde::de::IgnoredAny>,
    total: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shipped<'a> {
    #[serde(borrow)]
    order_id: &'a str,
}

/// A row of `order_summaries`.
#[derive(Clone, Debug)]
struct Summary {
    user_id: Option<String>,
    status: &'static str,
    total: f64,
    item_count: i64,
    created_at: String,
    shipped_at: Option<String>,
}

/// The read-model side.
trait Store {
    /// Rows for `ids` that exist in the database.
    fn load(&mut self, ids: &[&str]) -> anyhow::Result<HashMap<String, Summary>>;
    /// Writes the batch's rows in one transaction.
    fn write(&mut self, rows: &HashMap<String, Summary>) -> anyhow::Result<()>;
}

const DDL_COLUMNS: &str = "id {text}, user_id {text}, status {text}, total {numeric}, item_count {int}, created_at {ts}, shipped_at {ts}, PRIMARY KEY (id)";

struct Sqlite(rusqlite::Connection);

impl Sqlite {
    fn open(path: &str) -> anyhow::Result<Self> {
        let conn = rusqlite::Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let cols = DDL_COLUMNS.replace("{text}", "TEXT").replace("{numeric}", "NUMERIC").replace("{int}", "INTEGER").replace("{ts}", "TEXT");
        conn.execute_batch(&format!("CREATE TABLE IF NOT EXISTS order_summaries ({cols})"))?;
        Ok(Sqlite(conn))
    }
}

impl Store for Sqlite {
    fn load(&mut self, ids: &[&str]) -> anyhow::Result<HashMap<String, Summary>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT user_id, status, total, item_count, created_at, shipped_at FROM order_summaries WHERE id = ?1",
        )?;
        let mut found = HashMap::new();
        for id in ids {
            let mut rows = stmt.query([id])?;
            if let Some(r) = rows.next()? {
                let status: String = r.get(1)?;
                found.insert((*id).to_owned(), Summary {
                    user_id: r.get(0)?,
                    status: if status == "shipped" { "shipped" } else { "pending" },
                    total: r.get(2)?,
                    item_count: r.get(3)?,
                    created_at: r.get(4)?,
                    shipped_at: r.get(5)?,
                });
            }
        }
        Ok(found)
    }

    fn write(&mut self, rows: &HashMap<String, Summary>) -> anyhow::Result<()> {
        let tx = self.0.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO order_summaries (id, user_id, status, total, item_count, created_at, shipped_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, \
                 status = excluded.status, total = excluded.total, item_count = excluded.item_count, \
                 created_at = excluded.created_at, shipped_at = excluded.shipped_at",
            )?;
            for (id, s) in rows {
                stmt.execute(rusqlite::params![id, s.user_id, s.status, s.total, s.item_count, s.created_at, s.shipped_at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

struct Postgres(postgres::Client);

impl Postgres {
    fn connect(url: &str) -> anyhow::Result<Self> {
        let mut client = postgres::Client::connect(url, postgres::NoTls)?;
        let cols = DDL_COLUMNS.replace("{text}", "text").replace("{numeric}", "numeric").replace("{int}", "bigint").replace("{ts}", "timestamptz");
        client.batch_execute(&format!("CREATE TABLE IF NOT EXISTS order_summaries ({cols})"))?;
        Ok(Postgres(client))
    }
}

impl Store for Postgres {
    fn load(&mut self, ids: &[&str]) -> anyhow::Result<HashMap<String, Summary>> {
        let rows = self.0.query(
            "SELECT id, user_id, status, total::float8, item_count, \
             to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
             to_char(shipped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') \
             FROM order_summaries WHERE id = ANY($1)",
            &[&ids],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let status: String = r.get(2);
                (r.get(0), Summary {
                    user_id: r.get(1),
                    status: if status == "shipped" { "shipped" } else { "pending" },
                    total: r.get(3),
                    item_count: r.get(4),
                    created_at: r.get(5),
                    shipped_at: r.get(6),
                })
            })
            .collect())
    }

    fn write(&mut self, rows: &HashMap<String, Summary>) -> anyhow::Result<()> {
        let n = rows.len();
        let (mut ids, mut users, mut statuses, mut totals, mut counts, mut created, mut shipped) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        for (id, s) in rows {
            ids.push(id.as_str());
            users.push(s.user_id.as_deref());
            statuses.push(s.status);
            totals.push(s.total.to_string());
            counts.push(s.item_count);
            created.push(s.created_at.as_str());
            shipped.push(s.shipped_at.as_deref());
        }
        let mut tx = self.0.transaction()?;
        tx.execute(
            "INSERT INTO order_summaries (id, user_id, status, total, item_count, created_at, shipped_at) \
             SELECT id, user_id, status, total::numeric, item_count, created_at::timestamptz, shipped_at::timestamptz \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::text[]) \
               AS t(id, user_id, status, total, item_count, created_at, shipped_at) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, status = excluded.status, total = excluded.total, \
             item_count = excluded.item_count, created_at = excluded.created_at, shipped_at = excluded.shipped_at",
            &[&ids, &users, &statuses, &totals, &counts, &created, &shipped],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Runs the baseline; prints its JSON result line.
pub fn run(args: &NativeArgs) -> anyhow::Result<()> {
    let mut store: Box<dyn Store> = match Sink::of(&args.database)? {
        Sink::Sqlite(path) => Box::new(Sqlite::open(&path)?),
        Sink::Postgres(url) => Box::new(Postgres::connect(&url)?),
    };
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &args.brokers)
        .set("group.id", &args.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", args.fetch_wait_ms.to_string())
        .set("fetch.queue.backoff.ms", "10")
        .create()
        .context("creating the consumer")?;
    consumer.subscribe(&[&args.topic])?;
    let (mut applied, mut first_fetch, mut last_commit) = (0u64, None, 0u64);
    let mut last_record = Instant::now();
    let mut batch: Vec<BorrowedMessage<'_>> = Vec::with_capacity(1000);
    while applied < args.expect {
        batch.clear();
        let mut opened: Option<Instant> = None;
        while batch.len() < 1000 {
            let timeout = match opened {
                None => Duration::from_millis(100),
                Some(t) => match Duration::from_millis(args.batch_wait_ms).checked_sub(t.elapsed()) {
                    Some(left) => left,
                    None => break,
                },
            };
            match consumer.poll(timeout) {
                None if opened.is_none() => break,
                None => break,
                Some(Ok(m)) => {
                    opened.get_or_insert_with(Instant::now);
                    first_fetch.get_or_insert_with(unix_ms);
                    batch.push(m);
                }
                Some(Err(e)) => return Err(e).context("consuming"),
            }
        }
        if batch.is_empty() {
            if last_record.elapsed() > Duration::from_millis(args.idle_exit_ms) {
                bail!("idle for {} ms after {applied} of {} events", args.idle_exit_ms, args.expect);
            }
            continue;
        }
        last_record = Instant::now();
        apply(&batch, store.as_mut())?;
        let mut next: HashMap<(&str, i32), i64> = HashMap::new();
        for m in &batch {
            let o = next.entry((m.topic(), m.partition())).or_insert(0);
            *o = (*o).max(m.offset() + 1);
        }
        let mut tpl = TopicPartitionList::new();
        for ((t, p), o) in next {
            tpl.add_partition_offset(t, p, Offset::Offset(o))?;
        }
        consumer.commit(&tpl, CommitMode::Sync).context("committing offsets")?;
        last_commit = unix_ms();
        applied += batch.len() as u64;
    }
    let sink = if args.database.starts_with("sqlite://") { "sqlite" } else { "postgres" };
    println!(
        "{}",
        serde_json::json!({"consumer": "native", "sink": sink, "events": applied, "first_fetch_unix_ms": first_fetch.unwrap_or(0), "last_commit_unix_ms": last_commit})
    );
    Ok(())
}

/// One decoded event of the projection.
enum Op<'a> {
    Placed { order: Placed<'a>, at: &'a str },
    Shipped { order_id: &'a str, at: &'a str },
}

/// The projection over one batch: each event decoded once, rows gathered in a map (an
/// order and its shipment may share a batch), orders shipped from an earlier batch loaded
/// in one query, then the rows written in one transaction.
fn apply(batch: &[BorrowedMessage<'_>], store: &mut dyn Store) -> anyhow::Result<()> {
    let mut ops = Vec::with_capacity(batch.len());
    let mut placed_here: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut missing: Vec<&str> = Vec::new();
    for m in batch {
        let Some(payload) = m.payload() else { continue };
        let decoded = serde_json::from_slice::<Envelope<'_>>(payload).and_then(|e| match e.event_type {
            "OrderPlaced" | "OrderCreated" => serde_json::from_str(e.data.get()).map(|order| Some(Op::Placed { order, at: e.timestamp })),
            "OrderShipped" => serde_json::from_str::<Shipped<'_>>(e.data.get()).map(|s| Some(Op::Shipped { order_id: s.order_id, at: e.timestamp })),
            _ => Ok(None),
        });
        match decoded {
            Ok(Some(op)) => {
                match &op {
                    Op::Placed { order, .. } => {
                        placed_here.insert(order.order_id);
                    }
                    Op::Shipped { order_id, .. } if !placed_here.contains(order_id) => missing.push(order_id),
                    Op::Shipped { .. } => {}
                }
                ops.push(op);
            }
            Ok(None) => {}
            Err(e) => eprintln!("skipping an undecodable event at {}/{}: {e}", m.partition(), m.offset()),
        }
    }
    let mut rows: HashMap<String, Summary> = if missing.is_empty() { HashMap::with_capacity(ops.len()) } else { store.load(&missing)? };
    for op in ops {
        match op {
            Op::Placed { order, at } => {
                rows.insert(order.order_id.to_owned(), Summary {
                    user_id: order.user_id.map(str::to_owned),
                    status: "pending",
                    total: order.total,
                    item_count: order.items.len() as i64,
                    created_at: at.to_owned(),
                    shipped_at: None,
                });
            }
            Op::Shipped { order_id, at } => match rows.get_mut(order_id) {
                Some(row) => {
                    row.status = "shipped";
                    row.shipped_at = Some(at.to_owned());
                }
                None => eprintln!("OrderShipped for unknown order {order_id}"),
            },
        }
    }
    store.write(&rows)
}
