//! What `weir check` verifies beyond one file's syntax: that each plugin exists and is a
//! component exporting the declared world, and that pipelines agree with each other.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::diagnostics::{Collector, Diagnostic, Diagnostics};
use super::{Pipeline, Table};
use crate::plugin::{Engine, Plugin};

/// Parses and checks `files`; on success returns each pipeline with its compiled plugin.
/// On failure returns every problem found in every file.
pub fn check(files: &[PathBuf], engine: &Engine) -> Result<Vec<(Pipeline, Plugin)>, Diagnostics> {
    let mut found = Vec::new();
    let mut ok = Vec::new();
    for file in files {
        match super::load(file) {
            Ok(p) => ok.push(p),
            Err(d) => found.extend(d),
        }
    }
    found.extend(across_files(&ok));

    let mut loaded = Vec::new();
    for p in ok {
        let path = p.plugin_path();
        let result = if path.is_file() {
            engine.load(&path).map_err(|e| format!("`{}` is not a usable weir plugin: {e:#}", p.handler.plugin.display()))
        } else {
            Err(format!(
                "plugin file `{}` not found (looked at {}); build the plugin first",
                p.handler.plugin.display(),
                path.display()
            ))
        };
        match result {
            Ok(plugin) => loaded.push((p, plugin)),
            Err(message) => found.push(at(&p.file, p.spans.plugin.clone(), message)),
        }
    }
    if found.is_empty() { Ok(loaded) } else { Err(Diagnostics(found)) }
}

/// Pipelines must have distinct names, and pipelines sharing a database must declare a
/// shared table the same way.
fn across_files(pipelines: &[Pipeline]) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut names: HashMap<&str, &Path> = HashMap::new();
    let mut tables: HashMap<(String, &str), (&Table, &Path)> = HashMap::new();
    for p in pipelines {
        if let Some(first) = names.insert(&p.name, &p.file) {
            found.push(at(
                &p.file,
                p.spans.name.clone(),
                format!("pipeline name `{}` is already used by {}", p.name, first.display()),
            ));
        }
        let Some(rm) = &p.read_model else { continue };
        let database = match rm.database.strip_prefix("sqlite://") {
            Some(path) => format!("sqlite://{}", super::resolve(&p.file, Path::new(path)).display()),
            None => rm.database.clone(),
        };
        for (i, t) in rm.tables.iter().enumerate() {
            match tables.get(&(database.clone(), t.name.as_str())) {
                Some((other, file)) if *other != t => found.push(at(
                    &p.file,
                    p.spans.tables.get(i).cloned().flatten(),
                    format!(
                        "table `{}` is declared differently in {} (same database): declarations must match",
                        t.name,
                        file.display()
                    ),
                )),
                Some(_) => {}
                None => {
                    tables.insert((database.clone(), &t.name), (t, &p.file));
                }
            }
        }
    }
    found
}

/// A diagnostic at `span` of `file`.
pub(crate) fn at(file: &Path, span: Option<std::ops::Range<usize>>, message: String) -> Diagnostic {
    let source = std::fs::read_to_string(file).unwrap_or_default();
    let mut cx = Collector::new(file, &source);
    cx.error(span, message);
    cx.found.remove(0)
}
