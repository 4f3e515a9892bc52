//! Every example plugin as a component, through the runtime's own engine and instance
//! (no broker): the same rows and emitted events as its native twin under
//! `weir_sdk::testing::TestHost`, one call per batch, and failures isolated to their
//! events: error results, panics, endless loops, memory bombs, writes before a failure.

mod common;

use std::sync::Arc;

use serde_json::json;
use weir::config::{ColumnType, PluginLimits, Table};
use weir::plugin::{BatchBuilder, BatchOutcome, Change, Engine, Instance, Schema, Value};
use weir::source::envelope::decode;
use weir_sdk::testing::{TestEvent, TestHost};

fn table(name: &str, columns: &[(&str, ColumnType)], key: &[&str]) -> Table {
    Table {
        name: name.into(),
        primary_key: key.iter().map(|k| k.to_string()).collect(),
        columns: columns.iter().map(|(c, t)| (c.to_string(), *t)).collect(),
    }
}

fn schema(tables: &[Table], topics: &[&str]) -> Arc<Schema> {
    let topics: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
    Arc::new(Schema::new("test", tables, &topics))
}

struct Harness {
    instance: Instance,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new(plugin: &str, tables: &[Table], topics: &[&str], limits: PluginLimits) -> Self {
        Harness::with_path(&common::plugin(plugin), tables, topics, limits)
    }

    fn with_path(path: &std::path::Path, tables: &[Table], topics: &[&str], limits: PluginLimits) -> Self {
        let engine = Engine::new(None).unwrap();
        let plugin = engine.load(path).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = weir::sink::sql::open_url(
            &format!("sqlite://{}", dir.path().join("t.db").display()),
            &dir.path().join("p.toml"),
            tables,
        )
        .unwrap();
        let instance = Instance::new(&plugin, schema(tables, topics), limits, Some(store)).unwrap();
        Harness { instance, _dir: dir }
    }

    /// Runs one batch of `(event type, data)` events and applies its changes.
    fn run(&mut self, events: &[(&str, serde_json::Value)]) -> BatchOutcome {
        let payloads: Vec<Vec<u8>> = events
            .iter()
            .enumerate()
            .map(|(i, (t, d))| serde_json::to_vec(&json!({"eventType": t, "eventId": format!("e{i}"), "timestamp": 1_774_864_800_000i64 + i as i64, "data": d})).unwrap())
            .collect();
        let mut builder = BatchBuilder::new();
        for (i, p) in payloads.iter().enumerate() {
            builder.push(p, None, &decode(Some(p), None, None).unwrap(), i as u32);
        }
        let outcome = self.instance.run(builder.batch()).unwrap();
        self.instance.read_store().unwrap().apply(&outcome.changes, "test", &[], &[]).unwrap();
        outcome
    }

    fn rows(&mut self, table: usize) -> Vec<Vec<Value>> {
        self.instance.read_store().unwrap().scan(table).unwrap()
    }
}

const LIMITS: PluginLimits = PluginLimits { memory_mib: 32, deadline_ms: 500 };

/// The SDK's value as the host's, to compare a native run with a component run.
fn host_value(v: &weir_sdk::Value) -> Value {
    match v {
        weir_sdk::Value::Null => Value::Null,
        weir_sdk::Value::Boolean(b) => Value::Boolean(*b),
        weir_sdk::Value::Integer(i) => Value::Integer(*i),
        weir_sdk::Value::Float(f) => Value::Float(*f),
        weir_sdk::Value::Text(s) => Value::Text(s.clone()),
        weir_sdk::Value::Json(j) => Value::Json(j.clone()),
    }
}

fn test_events(events: &[(&str, serde_json::Value)]) -> Vec<TestEvent> {
    events
        .iter()
        .enumerate()
        .map(|(i, (t, d))| TestEvent::new(t, d.clone()).id(&format!("e{i}")).timestamp_ms(1_774_864_800_000 + i as i64))
        .collect()
}

fn order_tables() -> Vec<Table> {
    use ColumnType::*;
    vec![table(
        "order_summaries",
        &[("id", Text), ("user_id", Text), ("status", Text), ("total", Numeric), ("item_count", Integer), ("created_at", Timestamptz), ("shipped_at", Timestamptz)],
        &["id"],
    )]
}

#[test]
fn order_summary_component_matches_its_native_twin() {
    let events = [
        ("OrderPlaced", json!({"orderId": "ord-1", "userId": "u1", "items": [{"productId": "p", "quantity": 1, "price": 5.5}], "total": 5.5})),
        ("OrderShipped", json!({"orderId": "ord-1"})),
        ("OrderCreated", json!({"orderId": "ord-2", "userId": "u2", "items": [], "totalAmount": 99.99})),
        ("OrderShipped", json!({"orderId": "nope"})),
        ("OrderPlaced", json!({"orderId": 7})),
    ];
    let mut h = Harness::new("order_summary", &order_tables(), &[], LIMITS);
    let outcome = h.run(&events);
    // Placed and shipped in one batch: the shipped update read the batch's own write,
    // and only the final row per key reaches the database.
    assert_eq!(outcome.changes.len(), 2);
    let failed: Vec<u32> = outcome.failures.iter().map(|f| f.position).collect();
    assert_eq!(failed, vec![3, 4]);
    assert!(outcome.failures[0].message.contains("unknown order nope"));
    assert!(outcome.failures[1].message.starts_with("invalid event data"));

    let mut native = TestHost::new().table(
        "order_summaries",
        &["id", "user_id", "status", "total", "item_count", "created_at", "shipped_at"],
        &["id"],
    );
    let results = native.run(order_summary::handle, &test_events(&events));
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 2);
    let expected: Vec<Vec<Value>> = native
        .rows("order_summaries")
        .iter()
        .map(|r| r.columns().map(|(_, v)| host_value(v)).collect())
        .collect();
    let mut actual = h.rows(0);
    // SQLite orders "ORD..." < "ord..." the same way the native BTreeMap does.
    actual.sort_by_key(|r| format!("{:?}", r[0]));
    assert_eq!(actual, expected);
    assert_eq!(actual[0][2], Value::Text("shipped".into()));
}

#[test]
fn bank_account_component_matches_its_native_twin_across_batches() {
    use ColumnType::*;
    let tables = vec![table("accounts", &[("id", Text), ("owner", Text), ("balance", Numeric), ("transactions", Integer), ("updated_at", Timestamptz)], &["id"])];
    let mut h = Harness::new("bank_account", &tables, &["account-notices"], LIMITS);
    let mut native = TestHost::new()
        .table("accounts", &["id", "owner", "balance", "transactions", "updated_at"], &["id"])
        .topic("account-notices");
    let batches = [
        vec![("AccountOpened", json!({"accountId": "a", "owner": "Ada", "initialBalance": 100})), ("MoneyDeposited", json!({"accountId": "a", "amount": 100}))],
        vec![("MoneyWithdrawn", json!({"accountId": "a", "amount": 50})), ("MoneyWithdrawn", json!({"accountId": "a", "amount": 500})), ("MoneyDeposited", json!({"accountId": "ghost", "amount": 1}))],
    ];
    let mut emitted = Vec::new();
    for batch in &batches {
        let outcome = h.run(batch);
        emitted.extend(outcome.emits);
        native.run(bank_account::handle, &test_events(batch));
    }
    let expected: Vec<Vec<Value>> =
        native.rows("accounts").iter().map(|r| r.columns().map(|(_, v)| host_value(v)).collect()).collect();
    assert_eq!(h.rows(0), expected);
    assert_eq!(h.rows(0)[0][2], Value::Float(150.0));
    assert_eq!(emitted.len(), 1);
    assert_eq!(emitted[0].event_type, "WithdrawalRejected");
    assert_eq!(emitted[0].input, 1);
    let data: serde_json::Value = serde_json::from_slice(&emitted[0].data).unwrap();
    assert_eq!(data, native.emitted()[0].data);
}

fn hostile() -> Harness {
    use ColumnType::*;
    Harness::new("hostile", &[table("items", &[("id", Text), ("n", Integer)], &["id"])], &[], PluginLimits { memory_mib: 32, deadline_ms: 200 })
}

fn item_ids(h: &mut Harness) -> Vec<String> {
    h.rows(0)
        .into_iter()
        .map(|r| match (&r[0], &r[1]) {
            (Value::Text(id), Value::Integer(n)) => format!("{id}={n}"),
            (Value::Text(id), Value::Null) => format!("{id}=null"),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn traps_deadlines_and_memory_bombs_fail_only_their_event() {
    let mut h = hostile();
    let outcome = h.run(&[
        ("Ok", json!({"id": "a"})),
        ("Panic", json!({})),
        ("Ok", json!({"id": "b"})),
        ("Loop", json!({})),
        ("Alloc", json!({})),
        ("Ok", json!({"id": "c"})),
    ]);
    let failed: Vec<(u32, &str)> = outcome.failures.iter().map(|f| (f.position, f.message.as_str())).collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert_eq!(failed[0].0, 1);
    assert!(failed[0].1.starts_with("plugin trapped"), "{}", failed[0].1);
    assert_eq!(failed[1], (3, "plugin exceeded its deadline of 200 ms"));
    assert_eq!(failed[2].0, 4);
    assert!(failed[2].1.contains("memory"), "{}", failed[2].1);
    assert_eq!(item_ids(&mut h), vec!["a=1", "b=1", "c=1"]);

    // The replaced instance keeps serving later batches.
    let outcome = h.run(&[("Ok", json!({"id": "d"}))]);
    assert!(outcome.failures.is_empty());
    assert_eq!(item_ids(&mut h).len(), 4);
}

#[test]
fn writes_of_a_failed_event_are_dropped_even_when_later_events_read_them() {
    let mut h = hostile();
    let outcome = h.run(&[
        ("WriteThenFail", json!({"id": "x"})),
        ("Read", json!({"id": "y", "from": "x"})),
        ("Ok", json!({"id": "z"})),
    ]);
    assert_eq!(outcome.failures.len(), 1);
    assert_eq!(outcome.failures[0].position, 0);
    assert!(outcome.changes.iter().all(|(_, c)| matches!(c, Change::Upsert(_))));
    // `y` was computed without the failed write: the batch ran again without event 0.
    assert_eq!(item_ids(&mut h), vec!["y=null", "z=1"]);
}

#[test]
fn malformed_packed_rows_and_keys_fail_only_their_event() {
    let mut h = hostile();
    let outcome = h.run(&[
        ("Ok", json!({"id": "a"})),
        ("BadPacked", json!({})),
        ("ShortPacked", json!({})),
        ("NullKey", json!({})),
        ("BadKey", json!({})),
        ("Ok", json!({"id": "b"})),
    ]);
    let failed: Vec<(u32, &str)> = outcome.failures.iter().map(|f| (f.position, f.message.as_str())).collect();
    assert_eq!(failed.len(), 4, "{failed:?}");
    assert_eq!(failed[0], (1, "plugin wrote a row to `items` that is not valid packed values: malformed packed value at byte 0: unknown tag"));
    assert_eq!(failed[1], (2, "plugin wrote 1 values to table `items`, which has 2 columns"));
    assert_eq!(failed[2], (3, "plugin wrote a row to `items` with NULL key column `id`"));
    assert_eq!(failed[3].0, 4);
    assert!(failed[3].1.contains("plugin read `items` with a key that is not valid packed values"), "{}", failed[3].1);
    assert_eq!(item_ids(&mut h), vec!["a=1", "b=1"]);
}

#[test]
fn a_plugin_built_against_the_previous_contract_version_still_runs() {
    // Hand-written (see the file): imports `weir:plugin/context@0.1.0`, which this host
    // serves as 0.1.1; loading fails if wasmtime does not link the two.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plugin-0.1.0.wat");
    let limits = PluginLimits { memory_mib: 16, deadline_ms: 1000 };
    let mut h = Harness::with_path(&path, &order_tables(), &[], limits);
    let outcome = h.run(&[("OrderPlaced", json!({"orderId": "o-1"})), ("OrderShipped", json!({"orderId": "o-1"}))]);
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    assert!(outcome.changes.is_empty());
}
