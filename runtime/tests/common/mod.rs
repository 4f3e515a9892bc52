//! Helpers for weir's integration tests: the binary, the built plugins, the test broker
//! (tansu, started by scripts/test.sh) and PostgreSQL.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::ClientConfig;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// The built component of an example plugin (scripts/build-plugins.sh builds them).
pub fn plugin(name: &str) -> PathBuf {
    let path = repo().join("target/wasm32-wasip2/release").join(format!("{name}.wasm"));
    assert!(path.is_file(), "{} is missing: run scripts/build-plugins.sh (scripts/test.sh does)", path.display());
    path
}

/// The test broker's bootstrap servers. scripts/test.sh starts tansu and sets it.
pub fn brokers() -> String {
    std::env::var("WEIR_TEST_BROKERS")
        .expect("WEIR_TEST_BROKERS is not set: run the tests with scripts/test.sh, which starts tansu")
}

/// The PostgreSQL server for tests.
pub fn postgres_url() -> String {
    std::env::var("WEIR_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh PostgreSQL schema; returns a URL whose connections use it.
pub fn postgres_schema(name: &str) -> String {
    let mut client = postgres::Client::connect(&postgres_url(), postgres::NoTls).expect("PostgreSQL is reachable");
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}")).unwrap();
    let sep = if postgres_url().contains('?') { '&' } else { '?' };
    format!("{}{sep}options=-csearch_path%3D{name}", postgres_url())
}

/// A name unique to this test run.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}_{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Creates topics (3 partitions) on the broker.
pub fn create_topics(brokers: &str, topics: &[&str]) {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", brokers).create().unwrap();
    let new: Vec<NewTopic> = topics.iter().map(|t| NewTopic::new(t, 3, TopicReplication::Fixed(1))).collect();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let results = rt.block_on(admin.create_topics(&new, &AdminOptions::new())).expect("create topics");
    for r in results {
        if let Err((topic, e)) = r {
            panic!("creating topic {topic}: {e}");
        }
    }
}

/// Counts records the broker did not acknowledge.
#[derive(Clone, Default)]
struct DeliveryFailures(Arc<Mutex<Vec<String>>>);

impl rdkafka::ClientContext for DeliveryFailures {}

impl rdkafka::producer::ProducerContext for DeliveryFailures {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &rdkafka::producer::DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.0.lock().unwrap().push(e.to_string());
        }
    }
}

/// Produces `(key, value)` records to `topic` and waits until the broker acknowledged
/// every one (panics otherwise).
pub fn produce(brokers: &str, topic: &str, records: &[(Option<&str>, &[u8])]) {
    let failures = DeliveryFailures::default();
    let producer: ThreadedProducer<DeliveryFailures> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .create_with_context(failures.clone())
        .unwrap();
    for (key, value) in records {
        let mut r = BaseRecord::<str, [u8]>::to(topic).payload(*value);
        if let Some(k) = key {
            r = r.key(*k);
        }
        producer.send(r).map_err(|(e, _)| e).unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
    let failed = failures.0.lock().unwrap();
    assert!(failed.is_empty(), "the broker did not acknowledge {} record(s): {:?}", failed.len(), failed.first());
}

/// The seeds' sample events of a file in samples/, keyed by `aggregateId`.
pub fn sample_events(file: &str) -> Vec<(Option<String>, Vec<u8>)> {
    std::fs::read_to_string(repo().join("samples").join(file))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["aggregateId"].as_str().map(str::to_owned), l.as_bytes().to_vec())
        })
        .collect()
}

/// Produces sample events (see [`sample_events`]).
pub fn produce_samples(brokers: &str, topic: &str, file: &str) {
    let events = sample_events(file);
    let records: Vec<(Option<&str>, &[u8])> = events.iter().map(|(k, v)| (k.as_deref(), v.as_slice())).collect();
    produce(brokers, topic, &records);
}

/// `weir` with arguments.
pub fn weir(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_weir"));
    c.args(args).env("WEIR_CACHE_DIR", repo().join("target/weir-test-cache"));
    c
}

/// A running `weir run`, its stderr collected.
pub struct Weir {
    child: Child,
    /// Everything it logged so far.
    pub log: Arc<Mutex<String>>,
}

impl Weir {
    /// Starts `weir run` with `args`.
    pub fn start(args: &[&str]) -> Self {
        let mut child = weir(&["run"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start weir");
        let log = Arc::new(Mutex::new(String::new()));
        for stream in [Box::new(child.stderr.take().unwrap()) as Box<dyn std::io::Read + Send>, Box::new(child.stdout.take().unwrap())] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        Weir { child, log }
    }

    /// The log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits; returns the exit code.
    pub fn terminate(mut self) -> (i32, String) {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return (status.code().unwrap_or(-1), self.log());
            }
            assert!(Instant::now() < deadline, "weir did not exit after SIGTERM:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process with SIGKILL (no chance to finish anything) and reaps it.
    pub fn kill9(mut self) {
        Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits for the process to exit by itself; returns the exit code.
    pub fn wait(mut self, timeout: Duration) -> (i32, String) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return (status.code().unwrap_or(-1), self.log());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("weir did not exit within {timeout:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Weir {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Polls `check` until it returns `Some`, or panics after `timeout` with `what` and the
/// log of `weir`, if given.
pub fn eventually<T>(timeout: Duration, what: &str, weir: Option<&Weir>, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        if Instant::now() > deadline {
            let log = weir.map(Weir::log).unwrap_or_default();
            panic!("timed out waiting for {what}; weir's log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes a pipeline file into `dir`, with `@PLUGIN_DIR@` replaced by the built plugins'
/// directory.
pub fn write_pipeline(dir: &Path, name: &str, toml: &str) -> PathBuf {
    let plugins = repo().join("target/wasm32-wasip2/release");
    let path = dir.join(name);
    std::fs::write(&path, toml.replace("@PLUGIN_DIR@", plugins.to_str().unwrap())).unwrap();
    path
}

/// Fetches the text of `http://addr/path`.
pub fn http_get(addr: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

/// A free local TCP port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A consumed record: key, value and headers.
#[derive(Debug, Clone)]
pub struct Consumed {
    /// Record key.
    pub key: Option<String>,
    /// Record value, parsed as JSON.
    pub value: serde_json::Value,
    /// Headers, values as text.
    pub headers: Vec<(String, String)>,
}

/// Reads `topic` from the beginning until `count` records arrived (or `timeout`).
pub fn consume(brokers: &str, topic: &str, count: usize, timeout: Duration) -> Vec<Consumed> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        // librdkafka's default, stated: records of aborted transactions are never read.
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < count && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let headers = m.headers().map_or_else(Vec::new, |h| {
                h.iter().map(|h| (h.key.to_owned(), String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned())).collect()
            });
            out.push(Consumed {
                key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                value: serde_json::from_slice(m.payload().unwrap_or(b"null")).unwrap(),
                headers,
            });
        }
    }
    out
}
