//! Plugins in other languages: each SDK's and example plugin's own native tests, and each
//! example run end to end on tansu beside its Rust twin, on the same events, with the
//! same read-model rows and the same emitted events as the result.
//!
//! The components are built by `scripts/build-plugins.sh others` (scripts/test.sh does).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

/// Runs a native test command in the repository; fails with its output.
fn native(program: &str, args: &[&str], dir: &str) {
    let out = Command::new(program).args(args).current_dir(repo().join(dir)).env("CI", "true").output().unwrap_or_else(|e| panic!("running {program}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{program} {args:?} in {dir} failed:\n{text}");
    println!("{text}");
}

#[test]
fn python_sdk_and_plugin_native_tests() {
    native("python3", &["-m", "unittest", "-v"], "plugins/order-summary-py");
}

#[test]
fn javascript_sdk_and_plugin_native_tests() {
    native("node", &["--test", "guest-sdk/js/test/", "plugins/order-summary-js/test/"], ".");
}

#[test]
fn c_sdk_and_plugin_native_tests() {
    native("plugins/bank-account-c/test.sh", &[], ".");
    native("plugins/order-summary-c/test.sh", &[], ".");
}

#[test]
fn go_sdk_and_plugin_native_tests() {
    native("plugins/order-notifications-go/build.sh", &["test"], ".");
    native("plugins/order-summary-go/build.sh", &["test"], ".");
}

/// A shipped pipeline, rewritten to run on the test broker with this run's own consumer
/// group, dead-letter topic and output topics (`OUT_U_TAG`); input topics get `_U`.
fn on_tansu(shipped: &str, dir: &Path, u: &str, tag: &str) -> (String, Vec<String>, String) {
    let source = std::fs::read_to_string(repo().join("pipelines").join(shipped)).unwrap();
    let mut doc: toml_edit::DocumentMut = source.parse().unwrap();
    doc["pipeline"]["brokers"] = toml_edit::value(brokers());
    doc["pipeline"]["group"] = toml_edit::value(format!("{tag}-{u}"));
    let topics: Vec<String> = doc["source"]["topics"].as_array().unwrap().iter().map(|t| format!("{}_{u}", t.as_str().unwrap())).collect();
    doc["source"]["topics"] = toml_edit::value(toml_edit::Array::from_iter(topics.iter().map(String::as_str)));
    let plugin = repo().join("pipelines").join(doc["handler"]["plugin"].as_str().unwrap());
    doc["handler"]["plugin"] = toml_edit::value(plugin.to_str().unwrap());
    let mut outputs = Vec::new();
    if let Some(allowed) = doc.get("sink").and_then(|s| s.get("topics")).and_then(|t| t.get("allowed")).and_then(|a| a.as_array()) {
        let mut rename = toml_edit::InlineTable::new();
        for a in allowed.iter().map(|a| a.as_str().unwrap().to_owned()).collect::<Vec<_>>() {
            let out = format!("{a}_{u}_{tag}");
            rename.insert(&a, out.as_str().into());
            outputs.push(out);
        }
        doc["sink"]["topics"]["rename"] = toml_edit::value(rename);
    }
    let dlq = format!("dlq_{u}_{tag}");
    doc["on_error"]["dead_letter_topic"] = toml_edit::value(dlq.as_str());
    let file = dir.join(format!("{tag}.toml"));
    std::fs::write(&file, doc.to_string()).unwrap();
    // The twins share their input topics: the first run creates them.
    let mut all = if tag == "rust" { topics } else { Vec::new() };
    all.extend(outputs.iter().cloned());
    all.push(dlq.clone());
    create_topics(&brokers(), &all.iter().map(String::as_str).collect::<Vec<_>>());
    (file.to_str().unwrap().to_owned(), outputs, dlq)
}

/// What a run produced: the rows as `weir show` prints them, the emitted events
/// (topic without its run tag, key, eventId, eventType, data) and the dead letters
/// (source offset, stage; error texts differ between languages by design).
#[derive(Debug, PartialEq)]
struct Output {
    rows: String,
    emitted: BTreeSet<(String, Option<String>, String, String, String)>,
    dead_letters: BTreeSet<(i64, i64, String)>,
}

fn run(file: &str, outputs: &[String], dlq: &str, tag: &str, dir: &Path, expected_letters: usize) -> Output {
    let database = format!("sqlite://{}", dir.join(format!("{tag}.db")).display());
    let weir = Weir::start(&["--metrics-addr", "off", "--database", &database, file]);
    // Wait until the dead letters and the emitted events arrived, then a quiet second.
    let letters = consume(&brokers(), dlq, expected_letters, Duration::from_secs(120));
    assert_eq!(letters.len(), expected_letters, "dead letters of {tag}: {letters:?}\n{}", weir.log());
    let mut emitted = BTreeSet::new();
    for out in outputs {
        for e in consume(&brokers(), out, usize::MAX, Duration::from_secs(15)) {
            let topic = out.rsplit_once('_').unwrap().0.rsplit_once('_').unwrap().0.to_owned();
            emitted.insert((
                topic,
                e.key.clone(),
                e.value["eventId"].as_str().unwrap().to_owned(),
                e.value["eventType"].as_str().unwrap().to_owned(),
                e.value["data"].to_string(),
            ));
        }
    }
    let (code, log) = weir.terminate();
    assert_eq!(code, 0, "{log}");
    let show = common::weir(&["show", "--database", &database, file]).output().unwrap();
    assert!(show.status.success());
    let dead_letters = letters
        .iter()
        .map(|l| (l.value["sourcePartition"].as_i64().unwrap(), l.value["sourceOffset"].as_i64().unwrap(), l.value["stage"].as_str().unwrap().to_owned()))
        .collect();
    Output { rows: String::from_utf8(show.stdout).unwrap(), emitted, dead_letters }
}

/// Runs the Rust pipeline and its twin on the same events; both must produce the same.
fn twins(rust: &str, twin: &str, sample: &str, bad_data: &[u8], min_emitted: usize) {
    let u = unique("twins");
    let dir = tempfile::tempdir().unwrap();
    let (rust_file, rust_out, rust_dlq) = on_tansu(rust, dir.path(), &u, "rust");
    let (twin_file, twin_out, twin_dlq) = on_tansu(twin, dir.path(), &u, "twin");
    let doc: toml_edit::DocumentMut = std::fs::read_to_string(&rust_file).unwrap().parse().unwrap();
    let input = doc["source"]["topics"][0].as_str().unwrap().to_owned();
    // Beside the samples: a record that is not JSON and an event whose data the plugin rejects.
    produce(&brokers(), &input, &[(Some("k"), b"not json"), (Some("k"), bad_data)]);
    produce_samples(&brokers(), &input, sample);
    let rust_run = run(&rust_file, &rust_out, &rust_dlq, "rust", dir.path(), 2);
    let twin_run = run(&twin_file, &twin_out, &twin_dlq, "twin", dir.path(), 2);
    let has_read_model = doc.get("sink").and_then(|s| s.get("read_model")).is_some();
    assert_eq!(rust_run.rows.contains("rows)"), has_read_model, "{}", rust_run.rows);
    assert!(rust_run.emitted.len() >= min_emitted, "{:?}", rust_run.emitted);
    assert_eq!(twin_run, rust_run, "{twin} differs from {rust}");
}

#[test]
fn python_order_summary_matches_its_rust_twin_on_tansu() {
    let bad = br#"{"eventType":"OrderPlaced","eventId":"bad-1","data":{"orderId":5}}"#;
    twins("order-summary.toml", "order-summary-py.toml", "order-events.jsonl", bad, 0);
}

#[test]
fn javascript_order_summary_matches_its_rust_twin_on_tansu() {
    let bad = br#"{"eventType":"OrderPlaced","eventId":"bad-1","data":{"orderId":5}}"#;
    twins("order-summary.toml", "order-summary-js.toml", "order-events.jsonl", bad, 0);
}

#[test]
fn c_bank_account_matches_its_rust_twin_on_tansu() {
    let bad = br#"{"eventType":"MoneyDeposited","eventId":"bad-1","data":{"accountId":"account-123","amount":"lots"}}"#;
    twins("bank-account.toml", "bank-account-c.toml", "account-events.jsonl", bad, 1);
}

#[test]
fn go_order_notifications_matches_its_rust_twin_on_tansu() {
    let bad = br#"{"eventType":"OrderPlaced","eventId":"bad-1","data":{"userId":"u"}}"#;
    twins("order-notifications.toml", "order-notifications-go.toml", "order-events.jsonl", bad, 3);
}
