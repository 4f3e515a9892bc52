//! Golden tests of `weir check`: each `tests/check/NAME.toml` is checked and its output
//! compared with `tests/check/NAME.stderr` (exit code on the first line). `BLESS=1`
//! rewrites the golden files from the current output.

mod common;

use common::{repo, weir};

fn run_check(files: &[&str]) -> (i32, String, String) {
    let out = weir(&["check"]).args(files).current_dir(repo()).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn check_messages_match_golden_files() {
    let dir = repo().join("tests/check");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 6, "golden cases are missing");
    let bless = std::env::var_os("BLESS").is_some();
    let mut mismatches = Vec::new();
    for case in cases {
        let rel = case.strip_prefix(repo()).unwrap().to_str().unwrap().to_owned();
        let (code, _, stderr) = run_check(&[&rel]);
        // Paths that depend on where the repository lives are not part of the message.
        let actual = format!("exit {code}\n{}", stderr.replace(repo().to_str().unwrap(), "$REPO"));
        let golden = case.with_extension("stderr");
        if bless {
            std::fs::write(&golden, &actual).unwrap();
        } else {
            let expected = std::fs::read_to_string(&golden).unwrap_or_default();
            if expected != actual {
                mismatches.push(format!("{rel}:\n--- expected\n{expected}--- actual\n{actual}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "weir check output differs (rerun with BLESS=1 to accept):\n{}", mismatches.join("\n"));
}

#[test]
fn shipped_pipelines_are_valid() {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("pipelines"))
        .unwrap()
        .map(|e| format!("pipelines/{}", e.unwrap().file_name().to_str().unwrap()))
        .filter(|f| f.ends_with(".toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4);
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = run_check(&refs);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.matches(": ok (pipeline").count(), files.len(), "{stdout}");
}

#[test]
fn errors_from_several_files_come_together() {
    let (code, _, stderr) = run_check(&["tests/check/syntax.toml", "tests/check/missing-plugin.toml", "pipelines/order-summary.toml"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("tests/check/syntax.toml:2:"), "{stderr}");
    assert!(stderr.contains("tests/check/missing-plugin.toml:9:10: plugin file"), "{stderr}");
    assert!(stderr.ends_with("2 error(s) found\n"), "{stderr}");
}

#[test]
fn duplicate_pipeline_names_and_conflicting_tables_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(repo().join("pipelines/order-summary.toml")).unwrap();
    let plugin = repo().join("target/wasm32-wasip2/release/order_summary.wasm");
    let a = src.replace("../target/wasm32-wasip2/release/order_summary.wasm", plugin.to_str().unwrap());
    let b = a.replace("status = \"text\"", "status = \"integer\"");
    std::fs::write(dir.path().join("a.toml"), &a).unwrap();
    std::fs::write(dir.path().join("b.toml"), &b).unwrap();
    let out = weir(&["check"]).arg(dir.path().join("a.toml")).arg(dir.path().join("b.toml")).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("b.toml:3:8: pipeline name `order-summary` is already used by"), "{stderr}");
    assert!(stderr.contains("b.toml:19:1: table `order_summaries` is declared differently in"), "{stderr}");
}
