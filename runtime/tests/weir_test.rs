//! `weir test` and `weir new`: the shipped pipelines' test cases pass; a wrong golden
//! file fails with a diff and `BLESS=1` rewrites it; a scaffolded plugin builds and
//! passes its own test as generated.

mod common;

use std::path::Path;

use common::*;

/// Runs `weir test` with `args`; returns (exit code, stdout + stderr).
fn weir_test(args: &[&str], bless: bool) -> (i32, String) {
    let mut cmd = common::weir(&["test"]);
    cmd.args(args).env("BLESS", if bless { "1" } else { "0" });
    let out = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// Copies `from` (a directory tree) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn every_shipped_pipeline_passes_its_test_cases() {
    let pipelines = repo().join("pipelines");
    let with_tests = std::fs::read_dir(&pipelines)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .filter(|e| e.path().with_extension("tests").is_dir())
        .count();
    let without: Vec<_> = std::fs::read_dir(&pipelines)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.with_extension("tests").is_dir())
        .collect();
    assert!(without.is_empty(), "pipelines without a .tests directory: {without:?}");
    let (code, out) = weir_test(&[pipelines.to_str().unwrap()], false);
    assert_eq!(code, 0, "{out}");
    let summary = out.lines().find(|l| l.starts_with("weir test: ")).expect("a summary line");
    let passed: usize = summary["weir test: ".len()..].split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= with_tests, "{summary}: expected at least one case per pipeline ({with_tests})\n{out}");
    assert!(summary.ends_with(" 0 failed"), "{out}");
}

#[test]
fn a_wrong_golden_file_fails_with_a_diff_and_bless_rewrites_it() {
    let dir = tempfile::tempdir().unwrap();
    let toml = std::fs::read_to_string(repo().join("pipelines/order-summary.toml"))
        .unwrap()
        .replace("../target/", &format!("{}/target/", repo().display()));
    std::fs::write(dir.path().join("orders.toml"), toml).unwrap();
    copy_tree(&repo().join("pipelines/order-summary.tests"), &dir.path().join("orders.tests"));
    let case = dir.path().join("orders.tests/seed");
    let golden = std::fs::read_to_string(case.join("rows.golden")).unwrap();
    assert!(golden.contains(r#""status":"shipped""#), "{golden}");
    std::fs::write(case.join("rows.golden"), golden.replace(r#""status":"shipped""#, r#""status":"lost""#)).unwrap();

    let file = dir.path().join("orders.toml");
    let (code, out) = weir_test(&[file.to_str().unwrap()], false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("test order-summary::seed ... FAILED"), "{out}");
    assert!(out.contains(r#"-{"id":"ord-123""#) && out.contains(r#""status":"lost""#), "{out}");
    assert!(out.contains(r#"+{"id":"ord-123""#) && out.contains(r#""status":"shipped""#), "{out}");
    assert!(out.contains("weir test: 0 passed, 1 failed"), "{out}");

    let (code, out) = weir_test(&[file.to_str().unwrap()], true);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(case.join("rows.golden")).unwrap(), golden);
    let (code, out) = weir_test(&[file.to_str().unwrap()], false);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn toml_inputs_and_named_topics_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_pipeline(dir.path(), "store.toml", "[pipeline]\nname = \"store\"\n[source]\ntopics = [\"a\", \"b\"]\n\
        [handler]\nkind = \"projection\"\nplugin = \"@PLUGIN_DIR@/event_store.wasm\"\n[sink.read_model]\ndatabase = \"sqlite://unused.db\"\n\
        [[sink.read_model.tables]]\nname = \"events\"\nprimary_key = [\"event_id\"]\n\
        columns = { event_id = \"text\", event_type = \"text\", aggregate_id = \"text\", aggregate_type = \"text\", version = \"integer\", data = \"json\", metadata = \"json\", timestamp = \"timestamptz\" }\n");
    let case = dir.path().join("store.tests/mixed");
    std::fs::create_dir_all(&case).unwrap();
    std::fs::write(case.join("input.toml"), "[[input]]\nkey = \"k1\"\nevent = { eventType = \"Opened\", eventId = \"t1\", data = { n = 1 } }\n").unwrap();
    std::fs::write(case.join("input.b.jsonl"), "{\"eventType\":\"Closed\",\"eventId\":\"t2\",\"data\":{}}\n").unwrap();
    let (code, out) = weir_test(&[file.to_str().unwrap()], true);
    assert_eq!(code, 0, "{out}");
    let rows = std::fs::read_to_string(case.join("rows.golden")).unwrap();
    assert!(rows.starts_with("# events (2 rows)\n"), "{rows}");
    assert!(rows.contains(r#""event_id":"t1","event_type":"Opened""#) && rows.contains(r#""aggregate_type":"a""#), "{rows}");
    assert!(rows.contains(r#""event_id":"t2","event_type":"Closed""#) && rows.contains(r#""aggregate_type":"b""#), "{rows}");
    assert_eq!(std::fs::read_to_string(case.join("emitted.golden")).unwrap(), "");
}

/// `weir new` in one language: the scaffold builds with its own build.sh and passes
/// `weir test` as generated.
fn scaffold_builds_and_passes(lang: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = common::weir(&["new", "projection", "--lang", lang, "demo-plugin", "--dir", dir.path().to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plugin = dir.path().join("demo-plugin");
    let build = std::process::Command::new(plugin.join("build.sh"))
        // Share the repository's toolchains and caches (a user's machine keeps its own).
        .env("CARGO_TARGET_DIR", repo().join("target/scaffold"))
        .output()
        .unwrap();
    assert!(build.status.success(), "build.sh failed:\n{}{}", String::from_utf8_lossy(&build.stdout), String::from_utf8_lossy(&build.stderr));
    let pipeline = plugin.join("pipeline.toml");
    let (code, out) = weir_test(&[pipeline.to_str().unwrap()], false);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("test demo-plugin::example ... ok"), "{out}");
    assert!(out.contains("weir test: 1 passed, 0 failed"), "{out}");
    // A second scaffold of the same name is refused rather than overwriting.
    let again = common::weir(&["new", "projection", "--lang", lang, "demo-plugin", "--dir", dir.path().to_str().unwrap()]).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn weir_new_rust_builds_and_passes_its_test() {
    scaffold_builds_and_passes("rust");
}

#[test]
fn weir_new_python_builds_and_passes_its_test() {
    scaffold_builds_and_passes("python");
}

#[test]
fn weir_new_javascript_builds_and_passes_its_test() {
    scaffold_builds_and_passes("javascript");
}

#[test]
fn weir_new_c_builds_and_passes_its_test() {
    scaffold_builds_and_passes("c");
}

#[test]
fn weir_new_go_builds_and_passes_its_test() {
    scaffold_builds_and_passes("go");
}

#[test]
fn weir_new_rejects_unknown_languages_and_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::weir(&["new", "projection", "--lang", "cobol", "x", "--dir", dir.path().to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown language `cobol`: weir can scaffold rust, python, javascript, c, go"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = common::weir(&["new", "saga", "--lang", "rust", "x", "--dir", dir.path().to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown plugin kind `saga`"));
}
