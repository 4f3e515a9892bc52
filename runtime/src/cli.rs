//! The command line: `weir run`, `weir check`, `weir show`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::telemetry::logging::LogFormat;

/// weir: a WebAssembly-pluggable stream processor. Consumes Kafka topics, routes each
/// event through Wasm plugins declared in TOML pipeline files, and writes results to a
/// read database (SQLite, PostgreSQL) and Kafka topics.
#[derive(Debug, Parser)]
#[command(name = "weir", version, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
    /// Log format on stderr (`RUST_LOG` sets the level; default info).
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub log_format: LogFormat,
}

/// weir's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pipelines until SIGINT/SIGTERM (the current batch is finished and committed).
    ///
    /// Pipelines without `brokers` use an embedded in-memory Kafka broker, whose address
    /// is printed so any Kafka client can produce to it.
    Run(RunArgs),
    /// Validate pipeline files without a broker; prints every error as file:line:col.
    ///
    /// Exits 0 when every file is valid, 1 otherwise.
    Check {
        /// Pipeline files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also ask the pipelines' brokers: are they reachable, do the source topics
        /// exist, do they provide the transactions `exactly_once` needs.
        #[arg(long)]
        connect: bool,
        /// With `--connect`: ask these bootstrap servers instead of the pipelines' own.
        #[arg(long, env = "WEIR_BROKERS", requires = "connect")]
        brokers: Option<String>,
    },
    /// List, show or replay a pipeline's dead letters (needs a real broker).
    Dlq {
        /// What to do.
        #[command(subcommand)]
        action: DlqAction,
        /// The pipeline file (names the dead-letter topic and the brokers).
        #[arg(global = true, long, short)]
        pipeline: Option<PathBuf>,
        /// Use these bootstrap servers instead of the pipeline's.
        #[arg(global = true, long, env = "WEIR_BROKERS")]
        brokers: Option<String>,
        /// Which letters.
        #[command(flatten)]
        filter: crate::dlq::Filter,
    },
    /// Run the test cases next to pipelines (PIPE.tests/CASE/) on the embedded broker and
    /// SQLite, and compare rows and emitted events with the golden files.
    ///
    /// A case holds input.jsonl (or input.TOPIC.jsonl, or input.toml with [[input]]
    /// tables), rows.golden and emitted.golden. BLESS=1 rewrites the golden files.
    Test {
        /// Pipeline files, or directories of them (pipelines without a .tests directory
        /// are skipped).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Rewrite the golden files with what the pipelines produce.
        #[arg(long, env = "BLESS", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
        bless: bool,
    },
    /// Create a plugin, its pipeline and a test case from a template that builds and
    /// passes `weir test` as it is: `weir new projection --lang rust my-plugin`.
    New {
        /// The plugin kind: `projection`.
        kind: String,
        /// The plugin's language (rust, python, javascript, c, go).
        #[arg(long, short)]
        lang: String,
        /// The plugin's name; the directory NAME is created.
        name: String,
        /// Create the directory here instead of the current directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The weir SDK directory (`guest-sdk/` of the weir repository; default:
        /// $WEIR_SDK_DIR, else the one weir was built from).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Print the rows of the read-model tables the pipelines declare.
    Show {
        /// Use this database instead of the pipelines' own `database`.
        #[arg(long, env = "WEIR_DATABASE")]
        database: Option<String>,
        /// Pipeline files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// What `weir dlq` does.
#[derive(Debug, Subcommand)]
pub enum DlqAction {
    /// One line per dead letter: where it came from, when, why.
    List,
    /// The full dead-letter records as JSON lines.
    Show,
    /// Produce the letters' original events back to their source topics.
    Replay,
}

/// Options of `weir run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Pipeline files; each runs its own consumer group.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Use these Kafka bootstrap servers for every pipeline, instead of their own.
    #[arg(long, env = "WEIR_BROKERS")]
    pub brokers: Option<String>,
    /// Use this read-model database (sqlite://PATH or postgres://...) for every pipeline.
    #[arg(long, env = "WEIR_DATABASE")]
    pub database: Option<String>,
    /// Where to serve /metrics, /healthz and /readyz (`off` to disable).
    #[arg(long, default_value = "127.0.0.1:9898")]
    pub metrics_addr: String,
    /// Before consuming, produce each line of FILE (a JSON event) to TOPIC. The record
    /// key is the event's `aggregateId`. Repeatable.
    #[arg(long, value_name = "TOPIC=FILE")]
    pub input: Vec<String>,
    /// Exit once every pipeline has committed everything in its partitions and stayed
    /// idle for a second (for demos, tests and batch jobs).
    #[arg(long)]
    pub exit_when_idle: bool,
    /// Where compiled plugins are cached (default: $WEIR_CACHE_DIR, $XDG_CACHE_HOME/weir
    /// or ~/.cache/weir).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Compile plugins at every start instead of caching them.
    #[arg(long)]
    pub no_cache: bool,
    /// This process's name among the processes that share consumer groups: appended
    /// to the transactional id of `exactly_once` pipelines. Give each process its own,
    /// stable across restarts (a restart then aborts what the crashed process left open).
    #[arg(long, env = "WEIR_INSTANCE_ID")]
    pub instance_id: Option<String>,
}

impl RunArgs {
    /// The metrics address, or `None` when disabled.
    pub fn metrics_addr(&self) -> anyhow::Result<Option<SocketAddr>> {
        if self.metrics_addr == "off" {
            return Ok(None);
        }
        Ok(Some(self.metrics_addr.parse().map_err(|e| anyhow::anyhow!("--metrics-addr `{}`: {e}", self.metrics_addr))?))
    }
}
