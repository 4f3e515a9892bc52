//! The report: reads the results files of one harness run (the end-to-end runs, the
//! latency runs, the scaling runs, the engine figures and criterion's estimates) and
//! writes `BENCHMARKS.md`, the same results as one JSON file, and SVG charts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

use crate::e2e::{Consumer, Run, SinkKind};

/// Options of `weir-bench report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Where the harness wrote its results.
    #[arg(long, default_value = "target/bench-results")]
    pub results: PathBuf,
    /// criterion's output directory.
    #[arg(long, default_value = "target/criterion")]
    pub criterion: PathBuf,
    /// The markdown report to write.
    #[arg(long, default_value = "BENCHMARKS.md")]
    pub markdown: PathBuf,
    /// Where the JSON twin and the charts go.
    #[arg(long, default_value = "bench/results")]
    pub assets: PathBuf,
    /// Lines describing the run's settings (mode, events, versions), shown verbatim.
    #[arg(long)]
    pub setting: Vec<String>,
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The median and the range of a set of figures.
fn spread(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
    (median, values[0], values[n - 1])
}

/// One criterion benchmark: its id and its median time per iteration (ns).
struct CriterionResult {
    group: String,
    function: String,
    parameter: String,
    median_ns: f64,
    elements: Option<u64>,
}

fn criterion_results(dir: &Path) -> Vec<CriterionResult> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "new") {
                    let (Some(b), Some(est)) = (read_json(&p.join("benchmark.json")), read_json(&p.join("estimates.json"))) else { continue };
                    let s = |k: &str| b[k].as_str().unwrap_or_default().to_owned();
                    found.push(CriterionResult {
                        group: s("group_id"),
                        function: s("function_id"),
                        parameter: s("value_str"),
                        median_ns: est["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN),
                        elements: b["throughput"]["Elements"].as_u64(),
                    });
                } else if p.file_name().is_none_or(|n| n != "report" && n != "base" && n != "change") {
                    stack.push(p);
                }
            }
        }
    }
    found.sort_by(|a, b| (&a.group, &a.function, a.parameter.parse::<u64>().ok(), &a.parameter).cmp(&(&b.group, &b.function, b.parameter.parse::<u64>().ok(), &b.parameter)));
    found
}

fn fmt_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2}M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.0}k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// A target and where it stands.
struct Target {
    name: String,
    goal: String,
    measured: Option<f64>,
    unit: &'static str,
    met: Option<bool>,
}

/// Writes the report.
pub fn write(args: &ReportArgs) -> anyhow::Result<()> {
    let all_runs: Vec<Run> = read_json(&args.results.join("e2e.json")).map(serde_json::from_value).transpose()?.unwrap_or_default();
    let (runs, embedded): (Vec<Run>, Vec<Run>) = all_runs.iter().cloned().partition(|r| r.broker == "tansu");
    let latency = read_json(&args.results.join("latency.json"));
    let latency_mock = read_json(&args.results.join("latency-mock.json"));
    let scaling = read_json(&args.results.join("scaling.json"));
    let engine = read_json(&args.results.join("engine.json"));
    let criterion = criterion_results(&args.criterion);
    let mut md = String::new();
    let mut targets: Vec<Target> = Vec::new();

    writeln!(md, "# weir benchmarks\n")?;
    writeln!(md, "Written by `scripts/bench.sh` (do not edit by hand). Every figure of a table comes from one run of the harness, with the runs interleaved; ratios compare figures of the same run.\n")?;
    writeln!(md, "## Machine and settings\n")?;
    for line in &args.setting {
        writeln!(md, "- {line}")?;
    }
    writeln!(md)?;

    // Engine (criterion).
    if !criterion.is_empty() {
        writeln!(md, "## Engine (criterion, one core, epoch deadlines on)\n")?;
        writeln!(md, "Median time per iteration. `× native` divides a component figure by the native figure of the same group and batch size.\n")?;
        writeln!(md, "| group | benchmark | batch | median | events/s | × native |")?;
        writeln!(md, "| --- | --- | ---: | ---: | ---: | ---: |")?;
        let native: BTreeMap<(String, String), f64> =
            criterion.iter().filter(|c| c.function == "native").map(|c| ((c.group.clone(), c.parameter.clone()), c.median_ns)).collect();
        for c in &criterion {
            let rate = c.elements.map(|e| fmt_rate(e as f64 / (c.median_ns / 1e9))).unwrap_or_default();
            let ratio = match native.get(&(c.group.clone(), c.parameter.clone())) {
                Some(n) if c.function.starts_with("component") => format!("{:.2}", c.median_ns / n),
                _ => String::new(),
            };
            writeln!(md, "| {} | {} | {} | {} | {rate} | {ratio} |", c.group, c.function, c.parameter, fmt_ns(c.median_ns))?;
        }
        writeln!(md)?;
        // The targets on the seed projection at 1,000 events per batch.
        let find = |group_has: &str, function: &str, parameter: &str| {
            criterion.iter().find(|c| c.group.contains(group_has) && c.function == function && c.parameter == parameter).map(|c| c.median_ns)
        };
        let component = find("order_summary", "component", "1000");
        let native = find("order_summary", "native", "1000");
        if let Some(c) = component {
            let rate = 1000.0 / (c / 1e9);
            targets.push(Target { name: "seed projection through the component, one core".into(), goal: "≥ 700k events/s (stretch 850k)".into(), measured: Some(rate), unit: "events/s", met: Some(rate >= 700_000.0) });
        }
        if let (Some(c), Some(n)) = (component, native) {
            targets.push(Target { name: "component over native, same logic".into(), goal: "≤ 1.4× (stretch 1.25×)".into(), measured: Some(c / n), unit: "×", met: Some(c / n <= 1.4) });
        }
        if let Some(call) = find("engine_call", "wasmtime_call", "0") {
            targets.push(Target { name: "fixed cost of one call (empty batch, the typed call alone)".into(), goal: "≤ 150 ns".into(), measured: Some(call), unit: "ns", met: Some(call <= 150.0) });
        }
    }
    if let Some(e) = &engine {
        writeln!(md, "## Engine: interleaved ratios, instantiation and loading\n")?;
        writeln!(md, "Component over native per batch size, measured in alternating rounds of about 10 ms (criterion cannot interleave), median with the 10th–90th percentile of the rounds:\n")?;
        writeln!(md, "| plugin | batch | component ns/event | native ns/event | × native | p10–p90 |")?;
        writeln!(md, "| --- | ---: | ---: | ---: | ---: | --- |")?;
        for (group, sizes) in e["interleaved_component_over_native"].as_object().into_iter().flatten() {
            let mut sizes: Vec<_> = sizes.as_object().into_iter().flatten().collect();
            sizes.sort_by_key(|(k, _)| k.parse::<u64>().unwrap_or(0));
            for (size, r) in sizes {
                let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
                writeln!(md, "| {group} | {size} | {:.0} | {:.0} | {:.2} | {:.2}–{:.2} |", f("component_ns_per_event"), f("native_ns_per_event"), f("ratio"), f("ratio_p10"), f("ratio_p90"))?;
            }
        }
        let ns = |k: &str, q: &str| e[k][q].as_f64().map(fmt_ns).unwrap_or_default();
        writeln!(md, "\n| measure | p50 | p90 | p99 | p99.9 |")?;
        writeln!(md, "| --- | ---: | ---: | ---: | ---: |")?;
        for (label, k) in [("instantiate order-summary (`Instance::new`)", "instantiate_ns"), ("instantiate no-op", "instantiate_noop_ns")] {
            writeln!(md, "| {label} | {} | {} | {} | {} |", ns(k, "p50"), ns(k, "p90"), ns(k, "p99"), ns(k, "p999"))?;
        }
        let ms = |k: &str| e[k].as_f64().map(|v| format!("{v:.1} ms")).unwrap_or_default();
        writeln!(
            md,
            "\nLoading order-summary ({} KB of Wasm): compiling {}, compiling into a cold cache {}, from the warm cache {}.\n",
            e["plugin_bytes"].as_u64().unwrap_or(0) / 1000,
            ms("compile_ms"),
            ms("load_cold_cache_ms"),
            ms("load_cached_ms")
        )?;
        if let Some(p50) = e["instantiate_ns"]["p50"].as_f64() {
            targets.push(Target { name: "instantiation p50".into(), goal: "≤ 6 µs".into(), measured: Some(p50), unit: "ns", met: Some(p50 <= 6_000.0) });
        }
    }

    // End to end.
    let mut medians: BTreeMap<(SinkKind, Consumer), f64> = BTreeMap::new();
    if !runs.is_empty() {
        let events = runs[0].events;
        writeln!(md, "## End to end at maximum throughput (tansu)\n")?;
        writeln!(
            md,
            "A backlog of {events} seed-style events (mean {} B, {} partitions) drained by each consumer into a fresh read model; first fetch to last commit, as each consumer reports it. Median of {} interleaved runs, range in brackets; every read model checked (rows, shipped rows, sum of totals).\n",
            runs[0].payload_bytes,
            runs[0].partitions,
            runs.iter().map(|r| r.rep).max().unwrap_or(1)
        )?;
        writeln!(md, "| sink | consumer | events/s | range | CPU s | cores used | peak RSS | × native | weir × this |")?;
        writeln!(md, "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")?;
        let mut groups: BTreeMap<(SinkKind, Consumer), Vec<&Run>> = BTreeMap::new();
        for r in &runs {
            groups.entry((r.sink, r.consumer)).or_default().push(r);
        }
        for ((sink, consumer), rs) in &groups {
            let (m, _, _) = spread(&mut rs.iter().map(|r| r.events_per_sec).collect::<Vec<_>>());
            medians.insert((*sink, *consumer), m);
        }
        for ((sink, consumer), rs) in &groups {
            let (m, lo, hi) = spread(&mut rs.iter().map(|r| r.events_per_sec).collect::<Vec<_>>());
            let (cpu, _, _) = spread(&mut rs.iter().map(|r| r.cpu_seconds).collect::<Vec<_>>());
            let (secs, _, _) = spread(&mut rs.iter().map(|r| r.seconds).collect::<Vec<_>>());
            let (rss, _, _) = spread(&mut rs.iter().map(|r| r.peak_rss_mib).collect::<Vec<_>>());
            let native = medians.get(&(*sink, Consumer::Native));
            let weir = medians.get(&(*sink, Consumer::Weir));
            let x_native = native.map(|n| format!("{:.2}", m / n)).unwrap_or_default();
            let weir_over = match weir {
                Some(w) if *consumer != Consumer::Weir => format!("{:.2}", w / m),
                _ => String::new(),
            };
            writeln!(
                md,
                "| {sink:?} | {consumer:?} | {} | {}–{} | {cpu:.1} | {:.2} | {rss:.0} MiB | {x_native} | {weir_over} |",
                fmt_rate(m),
                fmt_rate(lo),
                fmt_rate(hi),
                cpu / secs.max(0.001)
            )?;
        }
        writeln!(md, "\n`cores used` is the process's CPU time over its whole life divided by the first-fetch-to-last-commit time (start-up included, so slightly high).\n")?;
        writeln!(md, "![throughput per consumer](bench/results/throughput.svg)\n")?;
        for (sink, goal, stretch) in [(SinkKind::Sqlite, 240_000.0, 350_000.0), (SinkKind::Postgres, 150_000.0, 250_000.0)] {
            if let Some(w) = medians.get(&(sink, Consumer::Weir)) {
                let name = if sink == SinkKind::Sqlite { "end to end on tansu into SQLite" } else { "end to end on tansu into PostgreSQL" };
                targets.push(Target { name: name.into(), goal: format!("≥ {} events/s (stretch {})", fmt_rate(goal), fmt_rate(stretch)), measured: Some(*w), unit: "events/s", met: Some(*w >= goal) });
            }
            for (other, goal, label) in [(Consumer::Native, 0.95, "weir over native Rust"), (Consumer::Python, 3.0, "weir over Python"), (Consumer::Node, 2.5, "weir over Node")] {
                if let (Some(w), Some(o)) = (medians.get(&(sink, Consumer::Weir)), medians.get(&(sink, other))) {
                    targets.push(Target { name: format!("{label}, {sink:?}"), goal: format!("≥ {goal}×"), measured: Some(w / o), unit: "×", met: Some(w / o >= goal) });
                }
            }
        }
        std::fs::create_dir_all(&args.assets)?;
        std::fs::write(args.assets.join("throughput.svg"), bar_chart("End-to-end throughput on tansu (events/s, median)", &medians))?;
    }

    if !embedded.is_empty() {
        let (m, lo, hi) = spread(&mut embedded.iter().map(|r| r.events_per_sec).collect::<Vec<_>>());
        writeln!(md, "## weir on its embedded broker\n")?;
        writeln!(
            md,
            "`weir run --input` streams {} seeded events into the in-process broker (librdkafka's mock cluster) while the pipeline drains them into SQLite; the mock cluster keeps only about 5 MiB per partition, hence the small load, and the producer shares the process. {} runs: median {} events/s (range {}–{}), read model checked.\n",
            embedded[0].events,
            embedded.len(),
            fmt_rate(m),
            fmt_rate(lo),
            fmt_rate(hi)
        )?;
    }

    for (l, broker, file) in [(&latency, "tansu", "latency.svg"), (&latency_mock, "mock cluster", "latency-mock.svg")] {
        if let Some(l) = l {
            latency_section(&mut md, l, broker, file, &mut targets)?;
            std::fs::create_dir_all(&args.assets)?;
            std::fs::write(args.assets.join(file), latency_chart(l, broker))?;
        }
    }

    if let Some(s) = &scaling {
        writeln!(md, "## Scaling\n")?;
        for section in s["sections"].as_array().into_iter().flatten() {
            writeln!(md, "### {}\n", section["title"].as_str().unwrap_or_default())?;
            if let Some(note) = section["note"].as_str() {
                writeln!(md, "{note}\n")?;
            }
            let columns: Vec<&str> = section["columns"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            writeln!(md, "| {} |", columns.join(" | "))?;
            writeln!(md, "|{}", " --- |".repeat(columns.len()))?;
            for row in section["rows"].as_array().into_iter().flatten() {
                let cells: Vec<String> = row.as_array().into_iter().flatten().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect();
                writeln!(md, "| {} |", cells.join(" | "))?;
            }
            writeln!(md)?;
        }
        if let Some(idle) = s["idle_rss_mib"].as_f64() {
            let anonymous = s["idle_anon_mib"].as_f64().unwrap_or(f64::NAN);
            writeln!(md, "Idle, with the four Rust seed pipelines loaded and their groups joined: {idle:.1} MiB resident, of which {anonymous:.1} MiB anonymous (heap, stacks, the plugins' linear memories); the rest is the binary's code pages.\n")?;
            targets.push(Target { name: "idle memory with the seed pipelines loaded (resident)".into(), goal: "≤ 16 MiB".into(), measured: Some(idle), unit: "MiB", met: Some(idle <= 16.0) });
        }
    }

    if let Some(profile) = read_json(&args.results.join("profile.json")) {
        writeln!(md, "## Where the time goes (weir into SQLite, end to end)\n")?;
        writeln!(md, "`perf record -e cpu-clock -g` of one maximum-throughput run of weir into SQLite (this machine has no hardware counters), grouped by thread and by part of the data path. Percent of all samples of the process.\n")?;
        writeln!(md, "| thread | part | % of samples |")?;
        writeln!(md, "| --- | --- | ---: |")?;
        for t in profile["threads"].as_array().into_iter().flatten() {
            for part in t["parts"].as_array().into_iter().flatten() {
                writeln!(md, "| {} | {} | {:.1} |", t["thread"].as_str().unwrap_or_default(), part["part"].as_str().unwrap_or_default(), part["percent"].as_f64().unwrap_or(0.0))?;
            }
        }
        writeln!(md, "\nTop symbols:\n")?;
        writeln!(md, "| % | thread | symbol |")?;
        writeln!(md, "| ---: | --- | --- |")?;
        for t in profile["top_symbols"].as_array().into_iter().flatten() {
            let symbol: String = t["symbol"].as_str().unwrap_or_default().chars().take(110).collect();
            writeln!(md, "| {:.1} | {} | `{}` |", t["percent"].as_f64().unwrap_or(0.0), t["thread"].as_str().unwrap_or_default(), symbol.replace('|', "\\|"))?;
        }
        writeln!(md)?;
    }

    writeln!(md, "## Targets\n")?;
    writeln!(md, "| target | goal | measured | met |")?;
    writeln!(md, "| --- | --- | ---: | --- |")?;
    for t in &targets {
        let measured = match (t.measured, t.unit) {
            (Some(v), "events/s") => fmt_rate(v),
            (Some(v), "ns") => fmt_ns(v),
            (Some(v), unit) => format!("{v:.2} {unit}"),
            (None, _) => "not measured".into(),
        };
        let met = match t.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        writeln!(md, "| {} | {} | {measured} | {met} |", t.name, t.goal)?;
    }
    writeln!(md)?;
    if let Some(notes) = std::fs::read_to_string(args.results.join("notes.md")).ok().filter(|n| !n.trim().is_empty()) {
        writeln!(md, "{notes}")?;
    }

    std::fs::create_dir_all(&args.assets)?;
    let everything = json!({
        "settings": args.setting,
        "engine_criterion": criterion.iter().map(|c| json!({"group": c.group, "function": c.function, "parameter": c.parameter, "median_ns": c.median_ns, "elements": c.elements})).collect::<Vec<_>>(),
        "engine": engine,
        "e2e": all_runs,
        "latency": latency,
        "latency_mock": latency_mock,
        "scaling": scaling,
        "targets": targets.iter().map(|t| json!({"name": t.name, "goal": t.goal, "measured": t.measured, "unit": t.unit, "met": t.met})).collect::<Vec<_>>(),
    });
    std::fs::write(args.assets.join("results.json"), serde_json::to_string_pretty(&everything)?)?;
    std::fs::write(&args.markdown, md).with_context(|| format!("writing {}", args.markdown.display()))?;
    eprintln!("wrote {} and {}/{{results.json,*.svg}}", args.markdown.display(), args.assets.display());
    Ok(())
}

/// Horizontal bars, one per (sink, consumer).
fn bar_chart(title: &str, medians: &BTreeMap<(SinkKind, Consumer), f64>) -> String {
    let max = medians.values().copied().fold(1.0, f64::max);
    let (row, left, width) = (26.0, 170.0, 420.0);
    let height = 50.0 + row * medians.len() as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="700" height="{height}" font-family="sans-serif" font-size="13"><rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="15" font-weight="bold">{title}</text>"#
    );
    for (i, ((sink, consumer), v)) in medians.iter().enumerate() {
        let y = 40.0 + row * i as f64;
        let w = width * v / max;
        let colour = match consumer {
            Consumer::Weir => "#2b6cb0",
            Consumer::Native => "#718096",
            Consumer::Python => "#d69e2e",
            Consumer::Node => "#38a169",
        };
        let _ = write!(
            svg,
            r#"<text x="10" y="{}">{sink:?} · {consumer:?}</text><rect x="{left}" y="{y}" width="{w:.1}" height="18" fill="{colour}"/><text x="{:.1}" y="{}">{}</text>"#,
            y + 14.0,
            left + w + 6.0,
            y + 14.0,
            fmt_rate(*v)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// One latency section: the table per (consumer, rate), the comparison at half the
/// maximum, and its target.
fn latency_section(md: &mut String, l: &Value, broker: &str, chart: &str, targets: &mut Vec<Target>) -> anyhow::Result<()> {
    writeln!(md, "## End-to-end latency at fixed rates ({broker}, SQLite)\n")?;
    writeln!(md, "{}\n", l["method"].as_str().unwrap_or_default())?;
    writeln!(md, "| consumer | rate | events/s offered | p50 | p90 | p99 | p99.9 | max | added p50 | added p99 | produce p99 |")?;
    writeln!(md, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")?;
    for r in l["runs"].as_array().into_iter().flatten() {
        let ms = |k: &str| r["latency_us"][k].as_f64().map(|v| format!("{:.1} ms", v / 1000.0)).unwrap_or_default();
        let of = |part: &str, k: &str| r[part][k].as_f64().map(|v| format!("{:.1} ms", v / 1000.0)).unwrap_or_default();
        writeln!(
            md,
            "| {} | {:.0} % | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r["consumer"].as_str().unwrap_or_default(),
            r["fraction"].as_f64().unwrap_or(0.0) * 100.0,
            fmt_rate(r["rate"].as_f64().unwrap_or(0.0)),
            ms("p50"),
            ms("p90"),
            ms("p99"),
            ms("p99_9"),
            ms("max"),
            of("added_us", "p50"),
            of("added_us", "p99"),
            of("produce_us", "p99")
        )?;
    }
    // What weir adds: its p99 over the hand-written consumer's at the same fraction of
    // each one's maximum, same broker and sink (the broker's own fetch path is in both).
    let at_half = |consumer: &str| {
        l["runs"].as_array().into_iter().flatten().find(|r| r["consumer"] == consumer && r["fraction"].as_f64() == Some(0.5)).and_then(|r| r["added_us"]["p99"].as_f64())
    };
    if let Some(w) = at_half("weir") {
        if let Some(n) = at_half("native") {
            writeln!(md, "\nOn {broker}, at half its maximum rate, the consumer's part (broker acknowledgement to commit) is {:.1} ms at p99 for weir and {:.1} ms for the hand-written consumer.\n", w / 1000.0, n / 1000.0)?;
        }
        targets.push(Target { name: format!("p99 added latency (acknowledged to committed) at half the maximum rate, {broker}"), goal: "≤ 5 ms".into(), measured: Some(w / 1000.0), unit: "ms", met: Some(w <= 5_000.0) });
    }
    writeln!(md, "\n![latency percentiles, {broker}](bench/results/{chart})\n")?;
    Ok(())
}

/// Grouped bars of the latency percentiles per (consumer, rate).
fn latency_chart(l: &Value, broker: &str) -> String {
    let runs: Vec<&Value> = l["runs"].as_array().into_iter().flatten().collect();
    let keys = ["p50", "p90", "p99", "p99_9"];
    let colours = ["#90cdf4", "#4299e1", "#2b6cb0", "#1a365d"];
    let max = runs.iter().flat_map(|r| keys.iter().filter_map(|k| r["latency_us"][*k].as_f64())).fold(1.0, f64::max);
    let (group_h, bar_h, left, width) = (80.0, 16.0, 190.0, 400.0);
    let height = 60.0 + group_h * runs.len() as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="700" height="{height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="15" font-weight="bold">End-to-end latency percentiles (ms), {broker} into SQLite</text>"#
    );
    for (i, r) in runs.iter().enumerate() {
        let y0 = 40.0 + group_h * i as f64;
        let _ = write!(
            svg,
            r#"<text x="10" y="{}">{} at {:.0} % ({}/s)</text>"#,
            y0 + 30.0,
            r["consumer"].as_str().unwrap_or_default(),
            r["fraction"].as_f64().unwrap_or(0.0) * 100.0,
            fmt_rate(r["rate"].as_f64().unwrap_or(0.0))
        );
        for (k, key) in keys.iter().enumerate() {
            let v = r["latency_us"][*key].as_f64().unwrap_or(0.0);
            let w = width * v / max;
            let y = y0 + k as f64 * (bar_h + 2.0);
            let _ = write!(
                svg,
                r#"<rect x="{left}" y="{y}" width="{w:.1}" height="{bar_h}" fill="{}"/><text x="{:.1}" y="{}">{key} {:.1}</text>"#,
                colours[k],
                left + w + 4.0,
                y + 12.0,
                v / 1000.0
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}
