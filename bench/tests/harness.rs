//! The benchmark harness's quick mode, end to end, as CI runs it: `scripts/bench.sh
//! --quick` installs the baselines' packages, runs the criterion engine benchmarks in
//! quick mode, the end-to-end runs of weir and the three baselines on tansu into SQLite,
//! PostgreSQL and a topic (each read model checked by the harness), the latency and
//! scaling runs with small loads, and writes the report. No thresholds: the figures of
//! a quick run mean nothing; what is checked is that every part ran and reported.

use std::path::Path;
use std::process::Command;

#[test]
fn quick_mode_runs_every_section_and_writes_the_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    // Needs the broker only to know that the suite runs where tansu is installed.
    std::env::var("WEIR_TEST_BROKERS").expect("WEIR_TEST_BROKERS is not set: run the tests with scripts/test.sh, which starts tansu");
    let out = root.join("target/bench-quick");
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(root.join("scripts/bench.sh")).arg("--quick").current_dir(root).status().expect("running scripts/bench.sh");
    assert!(status.success(), "scripts/bench.sh --quick failed: {status}");

    let report = std::fs::read_to_string(out.join("BENCHMARKS.md")).expect("BENCHMARKS.md written");
    for section in ["## Engine (criterion", "## End to end at maximum throughput", "## weir on its embedded broker", "## End-to-end latency", "## Scaling", "## Targets"] {
        assert!(report.contains(section), "no `{section}` in the report:\n{report}");
    }
    // Every consumer on every sink it supports, each run verified by the harness.
    for row in ["| Sqlite | Weir |", "| Sqlite | Native |", "| Sqlite | Python |", "| Sqlite | Node |", "| Postgres | Weir |", "| Postgres | Native |", "| Postgres | Python |", "| Postgres | Node |", "| Topic | Weir |"] {
        assert!(report.contains(row), "no `{row}` row in the report:\n{report}");
    }
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("assets/results.json")).unwrap()).unwrap();
    let runs = results["e2e"].as_array().expect("e2e runs");
    let on = |broker: &str| runs.iter().filter(|r| r["broker"] == broker).count();
    assert_eq!((on("tansu"), on("embedded")), (9, 1), "four consumers on two sinks, weir to a topic, weir on its embedded broker: {runs:#?}");
    for r in runs {
        assert_eq!(r["verified"], true, "{r}");
        assert!(r["events_per_sec"].as_f64().unwrap() > 0.0, "{r}");
    }
    // tansu: two consumers at 25, 50 and 90 %; the mock cluster: at 25 and 50 %.
    for (key, runs) in [("latency", 6), ("latency_mock", 4)] {
        let latency = results[key]["runs"].as_array().unwrap_or_else(|| panic!("{key} runs"));
        assert_eq!(latency.len(), runs, "{key}: two consumers at each rate");
        for r in latency {
            assert!(r["latency_us"]["p99"].as_u64().unwrap() >= r["latency_us"]["p50"].as_u64().unwrap(), "{r}");
        }
    }
    assert!(results["engine_criterion"].as_array().is_some_and(|a| !a.is_empty()), "criterion results read");
    for chart in ["throughput.svg", "latency.svg", "latency-mock.svg"] {
        let svg = std::fs::read_to_string(out.join("assets").join(chart)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<rect"), "{chart}");
    }
}
