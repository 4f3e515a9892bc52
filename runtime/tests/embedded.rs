//! The README's main job: the shipped pipelines on the embedded broker and SQLite, fed
//! the seeds' sample events with `--input`, until idle; then `weir show`.

mod common;

use std::time::Duration;

use common::{repo, weir, Weir};

#[test]
fn seed_scenario_on_the_embedded_default() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let pipelines: Vec<String> = ["order-summary", "bank-account", "event-store", "order-notifications"]
        .iter()
        .map(|p| repo().join(format!("pipelines/{p}.toml")).to_str().unwrap().to_owned())
        .collect();
    let orders = format!("order-events={}", repo().join("samples/order-events.jsonl").display());
    let accounts = format!("account-events={}", repo().join("samples/account-events.jsonl").display());
    let mut args = vec!["--exit-when-idle", "--metrics-addr", "off", "--database", &db, "--input", &orders, "--input", &accounts];
    args.extend(pipelines.iter().map(String::as_str));
    let (code, log) = Weir::start(&args).wait(Duration::from_secs(120));
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("embedded Kafka broker listening on 127.0.0.1:"), "{log}");
    assert!(log.contains("every pipeline is idle"), "{log}");

    let mut show = weir(&["show", "--database", &db]);
    show.args(&pipelines);
    let out = show.output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("order_summaries (3 rows)"), "{text}");
    assert!(text.contains("accounts (2 rows)"), "{text}");
    assert!(text.contains("events (14 rows)"), "{text}");
    let shipped = text.lines().find(|l| l.contains("ord-123 ")).expect("ord-123 row");
    assert!(shipped.contains("shipped") && shipped.contains("59.98"), "{shipped}");
    let ada = text.lines().find(|l| l.contains("account-123")).expect("account row");
    assert!(ada.contains("| 150 "), "{ada}");
    assert!(text.contains("WithdrawalRejected"), "{text}");
}

/// Where the address space is limited (`ulimit -v`), the pooling allocator cannot reserve
/// its slots: weir says so and runs the pipeline with instances allocated on demand.
#[test]
fn limited_address_space_falls_back_to_on_demand_instances() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("limited.db").display());
    let orders = format!("order-events={}", repo().join("samples/order-events.jsonl").display());
    let pipeline = repo().join("pipelines/order-summary.toml");
    let out = std::process::Command::new("sh")
        .args(["-c", "ulimit -v 16000000 && exec \"$0\" \"$@\"", env!("CARGO_BIN_EXE_weir")])
        .args(["run", "--exit-when-idle", "--metrics-addr", "off", "--database", &db, "--input", &orders])
        .arg(&pipeline)
        .env("WEIR_CACHE_DIR", repo().join("target/weir-test-cache"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("pooling allocator is unavailable"), "{log}");
    assert!(log.contains("every pipeline is idle"), "{log}");
    let show = weir(&["show", "--database", &db]).arg(&pipeline).output().unwrap();
    let text = String::from_utf8(show.stdout).unwrap();
    assert!(text.contains("order_summaries (3 rows)"), "{text}");
}
