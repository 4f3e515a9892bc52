//! Wiring: what each command does, from parsed arguments to exit code.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, ThreadedProducer};

use crate::cli::{Cli, Command, RunArgs};
use crate::config::check::check;
use crate::embedded::EmbeddedBroker;
use crate::pipeline::{Control, PipelineRun};
use crate::plugin::Engine;
use crate::telemetry;

/// How long every pipeline must stay caught up before `--exit-when-idle` exits.
const IDLE_EXIT_AFTER: Duration = Duration::from_secs(1);

/// Runs the command line; returns the process exit code.
pub fn main(cli: Cli) -> anyhow::Result<i32> {
    // `weir test` prints its own report; its pipelines' logs only when something is wrong.
    let level = if matches!(cli.command, Command::Test { .. }) { "warn" } else { "info" };
    telemetry::logging::init(cli.log_format, level);
    match cli.command {
        Command::Check { files, connect, brokers } => check_command(&files, connect.then_some(brokers)),
        Command::Show { database, files } => show_command(&files, database.as_deref()),
        Command::Run(args) => run_command(args),
        Command::New { kind, lang, name, dir, sdk } => new_command(&kind, &lang, &name, &dir, sdk),
        Command::Test { files, bless } => crate::test_runner::run(&files, &Engine::new(Engine::default_cache_dir())?, bless),
        Command::Dlq { action, pipeline, brokers, filter } => dlq_command(action, pipeline, brokers, &filter),
    }
}

/// `connect`: `Some(brokers override)` with `--connect`.
fn check_command(files: &[PathBuf], connect: Option<Option<String>>) -> anyhow::Result<i32> {
    let engine = Engine::new(Engine::default_cache_dir())?;
    let checked = check(files, &engine).and_then(|pipelines| {
        let Some(brokers) = connect else { return Ok(pipelines) };
        let found: Vec<_> = pipelines.iter().flat_map(|(p, _)| crate::config::connect::probe(p, brokers.as_deref())).collect();
        if found.is_empty() { Ok(pipelines) } else { Err(crate::config::Diagnostics(found)) }
    });
    match checked {
        Ok(pipelines) => {
            for (p, plugin) in &pipelines {
                println!("{}: ok (pipeline `{}`, plugin {} version {})", p.file.display(), p.name, plugin.path.display(), &plugin.digest[..12]);
            }
            Ok(0)
        }
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            eprintln!("{} error(s) found", diagnostics.0.len());
            Ok(1)
        }
    }
}

fn new_command(kind: &str, lang: &str, name: &str, parent: &Path, sdk: Option<PathBuf>) -> anyhow::Result<i32> {
    let sdk = crate::scaffold::sdk_dir(sdk)?;
    let (dir, lang) = crate::scaffold::create(&crate::scaffold::NewPlugin { kind, lang, name, parent, sdk: &sdk })?;
    println!("created {}: a {lang} {kind}, its pipeline and a test case", dir.display());
    println!("next:\n  {}/build.sh\n  weir test {}/pipeline.toml\n  weir run {}/pipeline.toml", dir.display(), dir.display(), dir.display());
    Ok(0)
}

fn dlq_command(
    action: crate::cli::DlqAction,
    pipeline: Option<PathBuf>,
    brokers: Option<String>,
    filter: &crate::dlq::Filter,
) -> anyhow::Result<i32> {
    let Some(file) = pipeline else { bail!("name the pipeline file with --pipeline FILE") };
    let pipeline = match crate::config::load(&file) {
        Ok(p) => p,
        Err(d) => {
            eprint!("{}", crate::config::Diagnostics(d));
            return Ok(1);
        }
    };
    let Some(brokers) = brokers.or_else(|| pipeline.brokers.clone()) else {
        bail!("the pipeline uses the embedded broker, which keeps nothing after exit: pass --brokers");
    };
    let letters: Vec<_> = crate::dlq::read(&brokers, &pipeline)?.into_iter().filter(|l| l.matches(filter)).collect();
    match action {
        crate::cli::DlqAction::List => crate::dlq::list(&letters),
        crate::cli::DlqAction::Show => {
            for l in &letters {
                println!("{}", serde_json::json!({"letter": l.id(), "record": l.value}));
            }
        }
        crate::cli::DlqAction::Replay => {
            let n = crate::dlq::replay(&brokers, &pipeline, &letters)?;
            println!("replayed {n} dead letter(s) to their source topics");
        }
    }
    Ok(0)
}

fn show_command(files: &[PathBuf], database: Option<&str>) -> anyhow::Result<i32> {
    let mut seen = BTreeSet::new();
    for file in files {
        let pipeline = match crate::config::load(file) {
            Ok(p) => p,
            Err(d) => {
                eprint!("{}", crate::config::Diagnostics(d));
                return Ok(1);
            }
        };
        let Some(mut store) = crate::sink::sql::open(&pipeline, database)? else { continue };
        let rm = pipeline.read_model.as_ref().expect("has a read model");
        for (i, table) in rm.tables.iter().enumerate() {
            if !seen.insert(table.name.clone()) {
                continue;
            }
            let rows = store.scan(i)?;
            println!("{} ({} rows)", table.name, rows.len());
            let header: Vec<&str> = table.column_names().collect();
            let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(crate::sink::sql::display).collect()).collect();
            print_table(&header, &cells);
            println!();
        }
    }
    Ok(0)
}

fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count().min(60));
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| {
            let c: String = if c.chars().count() > 60 { c.chars().take(57).chain("...".chars()).collect() } else { c.clone() };
            format!("{c:<w$}")
        }).collect();
        println!("  {}", padded.join(" | ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    println!("  {}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("-+-"));
    for row in rows {
        line(row.clone());
    }
}

fn run_command(args: RunArgs) -> anyhow::Result<i32> {
    let cache = if args.no_cache { None } else { args.cache_dir.clone().or_else(Engine::default_cache_dir) };
    let engine = Engine::new(cache)?;
    let pipelines = match check(&args.files, &engine) {
        Ok(p) => p,
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            eprintln!("{} error(s) found; nothing started", diagnostics.0.len());
            return Ok(1);
        }
    };

    // Brokers: --brokers, else each pipeline's own, else the embedded one.
    let needs_embedded = args.brokers.is_none() && pipelines.iter().any(|(p, _)| p.brokers.is_none());
    let embedded = if needs_embedded {
        let broker = EmbeddedBroker::start()?;
        let mut topics = BTreeSet::new();
        for (p, _) in pipelines.iter().filter(|(p, _)| p.brokers.is_none()) {
            topics.extend(p.source.topics.iter().cloned());
            topics.extend(p.kafka_topics());
            topics.insert(p.on_error.dead_letter_topic.clone());
        }
        for t in &topics {
            broker.create_topic(t)?;
        }
        println!("embedded Kafka broker listening on {} (in memory: nothing is kept after exit)", broker.bootstrap_servers());
        Some(broker)
    } else {
        None
    };
    let brokers_of = |p: &crate::config::Pipeline| -> String {
        args.brokers
            .clone()
            .or_else(|| p.brokers.clone())
            .unwrap_or_else(|| embedded.as_ref().expect("embedded broker").bootstrap_servers())
    };

    if !args.input.is_empty() {
        let all: BTreeSet<String> = pipelines.iter().map(|(p, _)| brokers_of(p)).collect();
        if all.len() != 1 {
            bail!("--input needs all pipelines on one broker; pass --brokers");
        }
        produce_inputs(all.first().expect("one broker"), &args.input)?;
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    if let Some(addr) = args.metrics_addr()? {
        let bound = runtime
            .block_on(telemetry::http::serve(addr))
            .with_context(|| format!("serving metrics on {addr} (use --metrics-addr 127.0.0.1:0, or off)"))?;
        tracing::info!("metrics on http://{bound}/metrics");
    }

    let settings = RunSettings { database: args.database.clone(), report_idle: args.exit_when_idle, instance_id: args.instance_id.clone() };
    let running = start_pipelines(pipelines, brokers_of, &settings)?;
    let exit_when_idle = args.exit_when_idle;
    let reason = runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return "SIGINT",
                _ = term.recv() => return "SIGTERM",
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    if running.any_stopped() {
                        return "a pipeline stopped";
                    }
                    if exit_when_idle && running.all_idle() {
                        return "every pipeline is idle";
                    }
                }
            }
        }
    });
    tracing::info!("stopping: {reason}");
    let code = running.stop();
    drop(embedded);
    Ok(code)
}

/// What every pipeline of a `weir run` (or `weir test`) shares.
pub(crate) struct RunSettings {
    /// `--database`: overrides every pipeline's read-model database.
    pub database: Option<String>,
    /// Whether pipelines report idleness (`--exit-when-idle`, `weir test`).
    pub report_idle: bool,
    /// `--instance-id`.
    pub instance_id: Option<String>,
}

/// Pipelines running on their threads.
pub(crate) struct Running {
    control: Arc<Control>,
    workers: Vec<(String, std::thread::JoinHandle<anyhow::Result<()>>)>,
}

/// Starts each pipeline on its own thread, on the brokers `brokers_of` gives it.
pub(crate) fn start_pipelines(
    pipelines: Vec<(crate::config::Pipeline, crate::plugin::Plugin)>,
    brokers_of: impl Fn(&crate::config::Pipeline) -> String,
    settings: &RunSettings,
) -> anyhow::Result<Running> {
    let control = Arc::new(Control::default());
    *control.idle_since.lock().expect("lock") = vec![None; pipelines.len()];
    let mut workers = Vec::new();
    for (slot, (pipeline, plugin)) in pipelines.into_iter().enumerate() {
        let run = PipelineRun {
            brokers: brokers_of(&pipeline),
            database: settings.database.clone(),
            pipeline,
            slot,
            plugin,
            report_idle: settings.report_idle,
            instance_id: settings.instance_id.clone(),
        };
        let control = control.clone();
        let name = run.pipeline.name.clone();
        let handle = std::thread::Builder::new()
            .name(format!("pipeline-{name}"))
            .spawn(move || run.run(&control))
            .context("starting a pipeline thread")?;
        workers.push((name, handle));
    }
    Ok(Running { control, workers })
}

impl Running {
    /// Whether a pipeline has stopped on its own (it failed).
    pub fn any_stopped(&self) -> bool {
        self.workers.iter().any(|(_, h)| h.is_finished())
    }

    /// Whether every pipeline has committed everything and stayed idle for a second.
    pub fn all_idle(&self) -> bool {
        let idle = self.control.idle_since.lock().expect("lock");
        idle.iter().all(|s| s.is_some_and(|t| t.elapsed() >= IDLE_EXIT_AFTER))
    }

    /// Tells every pipeline to finish its batch and stop; waits for them. Returns the
    /// exit code: 0, or 1 when a pipeline failed.
    pub fn stop(self) -> i32 {
        self.control.shutdown.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut code = 0;
        for (name, handle) in self.workers {
            match handle.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(pipeline = name, "pipeline failed: {e:#}");
                    code = 1;
                }
                Err(_) => {
                    tracing::error!(pipeline = name, "pipeline thread panicked");
                    code = 1;
                }
            }
        }
        code
    }
}

/// Produces each `TOPIC=FILE` line by line, keyed by the event's `aggregateId`, as it
/// reads them (a large file is never held in memory).
fn produce_inputs(brokers: &str, inputs: &[String]) -> anyhow::Result<()> {
    let mut producer = InputProducer::new(brokers)?;
    for input in inputs {
        let Some((topic, file)) = input.split_once('=') else {
            bail!("--input `{input}`: expected TOPIC=FILE");
        };
        let reader = std::io::BufReader::new(
            std::fs::File::open(Path::new(file)).with_context(|| format!("--input: cannot open {file}"))?,
        );
        for (n, line) in reader.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let event: serde_json::Value =
                serde_json::from_str(&line).with_context(|| format!("{file}:{}: not a JSON event", n + 1))?;
            let key = event.get("aggregateId").and_then(|k| k.as_str());
            producer.send(topic, key, line.as_bytes())?;
        }
    }
    producer.finish()
}

/// Produces input records (`--input`, `weir test`). Unkeyed records go to partition 0.
pub(crate) struct InputProducer {
    producer: ThreadedProducer<DefaultProducerContext>,
    started: Instant,
    count: usize,
}

impl InputProducer {
    /// An idempotent producer on `brokers`.
    pub fn new(brokers: &str) -> anyhow::Result<Self> {
        let producer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .create()
            .context("creating the input producer")?;
        Ok(InputProducer { producer, started: Instant::now(), count: 0 })
    }

    /// Queues one record, waiting while librdkafka's queue is full.
    pub fn send(&mut self, topic: &str, key: Option<&str>, value: &[u8]) -> anyhow::Result<()> {
        let mut record = BaseRecord::<str, [u8]>::to(topic).payload(value);
        // Keyed records go where the key hashes; unkeyed ones to partition 0, so that a
        // run (and a `weir test` golden file) is the same every time.
        match key {
            Some(k) => record = record.key(k),
            None => record = record.partition(0),
        }
        crate::sink::kafka::send_waiting(&self.producer, record).map_err(|e| anyhow::anyhow!("producing to {topic}: {e}"))?;
        self.count += 1;
        Ok(())
    }

    /// Waits until the broker has every record.
    pub fn finish(self) -> anyhow::Result<()> {
        crate::sink::kafka::wait_acknowledged(&self.producer, Duration::from_secs(30)).context("flushing input events")?;
        tracing::info!(events = self.count, elapsed_ms = self.started.elapsed().as_millis() as u64, "input events produced");
        Ok(())
    }
}
