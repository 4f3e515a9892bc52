//! One wasmtime engine per process; components compiled once and cached by content hash.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};

use super::bindings::{Projection, ProjectionPre};
use super::host::HostState;

/// How often the engine's epoch advances: the granularity of plugin deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// The process's wasmtime engine, its linker with the host imports, and the compile cache.
#[derive(Clone)]
pub struct Engine {
    inner: wasmtime::Engine,
    linker: Arc<Linker<HostState>>,
    cache_dir: Option<PathBuf>,
}

/// A compiled plugin, type-checked against the `projection` world and ready to instantiate.
#[derive(Clone)]
pub struct Plugin {
    /// The component file it came from.
    pub path: PathBuf,
    /// SHA-256 of the component bytes: the plugin's version.
    pub digest: String,
    pub(super) pre: ProjectionPre<HostState>,
    pub(super) engine: wasmtime::Engine,
}

/// Instances the pooling allocator holds slots for, at most, at once (one per pipeline
/// worker, plus the replacement of a trapped one and the new version during a reload).
const POOLED_INSTANCES: u32 = 1000;

/// Function-table entries a core module may have in a pooled slot: roomy enough for the
/// interpreters componentize-py and componentize-js embed.
const POOLED_TABLE_ELEMENTS: usize = 100_000;

/// An engine with the pooling allocator, which keeps instance memory and tables in
/// reserved slots and resets them instead of mapping and unmapping them per instance:
/// instantiating and tearing down an instance took 0.56–0.71× as long as on demand,
/// measured side by side (issue 11, stop 16). The slots
/// are address space only (4 GiB reserved per linear memory, nothing resident until
/// used). Where the address space is limited (`ulimit -v`) and the reservation fails,
/// the engine falls back to allocating on demand.
fn pooled_engine(config: &mut wasmtime::Config) -> anyhow::Result<wasmtime::Engine> {
    let mut pool = wasmtime::PoolingAllocationConfig::default();
    pool.total_component_instances(POOLED_INSTANCES)
        .total_core_instances(POOLED_INSTANCES * 4)
        .total_memories(POOLED_INSTANCES)
        .total_tables(POOLED_INSTANCES * 2)
        .table_elements(POOLED_TABLE_ELEMENTS);
    config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    match wt(wasmtime::Engine::new(config)) {
        Ok(engine) => Ok(engine),
        Err(e) => {
            tracing::warn!("wasmtime's pooling allocator is unavailable ({e:#}); allocating plugin instances on demand");
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::OnDemand);
            wt(wasmtime::Engine::new(config)).context("creating the wasmtime engine")
        }
    }
}

impl Engine {
    /// A new engine. `cache_dir` keeps compiled components between runs (None: no cache).
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        // Deadlines: an epoch check costs far less than fuel (DESIGN.md section 3).
        config.epoch_interruption(true);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        // `WEIR_WASM_PROFILER=perfmap` names plugin code for `perf record` (/tmp/perf-PID.map).
        if std::env::var_os("WEIR_WASM_PROFILER").is_some_and(|p| p == "perfmap") {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let inner = pooled_engine(&mut config)?;

        let mut linker = Linker::new(&inner);
        wt(wasmtime_wasi::p2::add_to_linker_sync(&mut linker)).context("linking WASI")?;
        wt(Projection::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s))
            .context("linking the weir:plugin imports")?;

        // The epoch ticker ends by itself once the last engine clone is gone.
        let weak = inner.weak();
        std::thread::Builder::new()
            .name("weir-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .context("starting the epoch thread")?;

        Ok(Engine { inner, linker: Arc::new(linker), cache_dir })
    }

    /// The default cache directory: `$WEIR_CACHE_DIR`, else `$XDG_CACHE_HOME/weir`, else
    /// `~/.cache/weir`.
    pub fn default_cache_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("WEIR_CACHE_DIR") {
            return Some(dir.into());
        }
        if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
            return Some(PathBuf::from(dir).join("weir"));
        }
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/weir"))
    }

    /// The underlying wasmtime engine.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.inner
    }

    /// Loads, compiles (or fetches from the cache) and links the component at `path`.
    pub fn load(&self, path: &Path) -> anyhow::Result<Plugin> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read plugin {}", path.display()))?;
        check_is_component(&bytes)?;
        let digest = hex::encode(Sha256::digest(&bytes));
        let component = self.compile(&bytes, &digest)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| anyhow::anyhow!("the plugin's imports do not match what weir provides: {e:#}"))?;
        let pre = ProjectionPre::new(pre).map_err(|e| {
            anyhow::anyhow!("the plugin does not export the `weir:plugin/projection` world: {e:#}")
        })?;
        Ok(Plugin { path: path.to_owned(), digest, pre, engine: self.inner.clone() })
    }

    fn compile(&self, bytes: &[u8], digest: &str) -> anyhow::Result<Component> {
        let Some(dir) = &self.cache_dir else {
            return wt(Component::new(&self.inner, bytes)).context("compiling the plugin");
        };
        // The compatibility hash covers wasmtime's version and this engine's settings.
        let mut compat = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&self.inner.precompile_compatibility_hash(), &mut compat);
        let file = dir.join(format!("{digest}-{:016x}.cwasm", std::hash::Hasher::finish(&compat)));
        if file.exists() {
            // SAFETY: the file was written by `Engine::precompile_component` of an engine
            // with the same compatibility hash, into weir's own cache directory.
            match unsafe { Component::deserialize_file(&self.inner, &file) } {
                Ok(c) => return Ok(c),
                Err(e) => tracing::warn!(file = %file.display(), "ignoring unusable cached plugin: {e:#}"),
            }
        }
        let compiled = wt(self.inner.precompile_component(bytes)).context("compiling the plugin")?;
        if let Err(e) = write_atomically(dir, &file, &compiled) {
            tracing::warn!(dir = %dir.display(), "cannot cache the compiled plugin: {e:#}");
        }
        // SAFETY: `compiled` was just produced by this engine.
        wt(unsafe { Component::deserialize(&self.inner, &compiled) }).context("loading the compiled plugin")
    }
}

/// wasmtime's own error type, as `anyhow` (keeping its chain).
pub(super) fn wt<T>(result: wasmtime::Result<T>) -> anyhow::Result<T> {
    result.map_err(anyhow::Error::from)
}

fn write_atomically(dir: &Path, file: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, file)?;
    Ok(())
}

fn check_is_component(bytes: &[u8]) -> anyhow::Result<()> {
    // WebAssembly text (`.wat`, which may open with a comment) is compiled as it is;
    // wasmtime reports its errors.
    let text = bytes.trim_ascii_start();
    if text.starts_with(b"(") || text.starts_with(b";;") {
        return Ok(());
    }
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', _, _, 1, 0]) => Ok(()),
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => bail!(
            "this is a core Wasm module, not a component: build the plugin for `wasm32-wasip2`, \
             or wrap it with `wasm-tools component new`"
        ),
        _ => bail!("not a WebAssembly file"),
    }
}
