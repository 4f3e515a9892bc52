//! `weir new KIND --lang LANG NAME`: a plugin, its pipeline and a test case, from
//! templates that build and pass `weir test` as they are.
//!
//! Every language's template implements the same projection (one `aggregates` row per
//! aggregate: last event type and event count), so the pipeline and its test case
//! (`templates/common/`) are shared; only the plugin source and its `build.sh`, which
//! builds `plugin.wasm`, differ (`templates/LANG/`).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

// `TEMPLATE_FILES`: every file under `runtime/templates/`, embedded by `build.rs`.
include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// A language weir can scaffold a plugin in.
pub struct Language {
    /// The `--lang` value, and the template directory's name.
    pub name: &'static str,
    /// Other names accepted for `--lang`.
    aliases: &'static [&'static str],
    /// The memory limit its pipeline starts with (interpreted guests need more).
    memory_mib: u32,
}

/// Every language `weir new` knows (those with a `templates/LANG/` directory).
pub const LANGUAGES: &[Language] = &[
    Language { name: "rust", aliases: &["rs"], memory_mib: 64 },
    Language { name: "python", aliases: &["py"], memory_mib: 256 },
    Language { name: "javascript", aliases: &["js"], memory_mib: 128 },
    Language { name: "c", aliases: &[], memory_mib: 64 },
    Language { name: "go", aliases: &["golang"], memory_mib: 64 },
];

fn available() -> impl Iterator<Item = &'static Language> {
    LANGUAGES.iter().filter(|l| TEMPLATE_FILES.iter().any(|(lang, ..)| *lang == l.name))
}

/// What to create.
pub struct NewPlugin<'a> {
    /// The plugin kind (`projection`).
    pub kind: &'a str,
    /// The `--lang` value.
    pub lang: &'a str,
    /// The plugin's name: a directory of that name is created.
    pub name: &'a str,
    /// Where the directory is created.
    pub parent: &'a Path,
    /// The weir SDK directory (`guest-sdk/`), which the templates refer to.
    pub sdk: &'a Path,
}

/// Writes the new plugin's directory; returns its path and the language's name.
/// Refuses to overwrite anything.
pub fn create(new: &NewPlugin<'_>) -> anyhow::Result<(PathBuf, &'static str)> {
    if new.kind != "projection" {
        bail!("unknown plugin kind `{}`: weir can scaffold `projection`", new.kind);
    }
    let Some(lang) = available().find(|l| l.name == new.lang || l.aliases.contains(&new.lang)) else {
        let known: Vec<&str> = available().map(|l| l.name).collect();
        bail!("unknown language `{}`: weir can scaffold {}", new.lang, known.join(", "));
    };
    let valid = !new.name.is_empty()
        && new.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && new.name.starts_with(|c: char| c.is_ascii_lowercase());
    if !valid {
        bail!("plugin name `{}`: use lowercase letters, digits and `-`, starting with a letter", new.name);
    }
    let dir = new.parent.join(new.name);
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let sdk = new.sdk.canonicalize().with_context(|| format!("the weir SDK directory {} does not exist", new.sdk.display()))?;
    let memory = lang.memory_mib.to_string();
    let crate_name = new.name.replace('-', "_");
    let sdk_text = sdk.display().to_string();
    let fill = |text: &str| {
        text.replace("{{name}}", new.name)
            .replace("{{crate_name}}", &crate_name)
            .replace("{{sdk}}", &sdk_text)
            .replace("{{memory_mib}}", &memory)
    };
    let files = TEMPLATE_FILES.iter().filter(|(l, ..)| *l == "common" || *l == lang.name);
    for (_, path, text, executable) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("has a parent")).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(&target, fill(text)).with_context(|| format!("writing {}", target.display()))?;
        if *executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok((dir, lang.name))
}

/// The SDK directory: `--sdk`, else `$WEIR_SDK_DIR`, else the one weir was built from.
pub fn sdk_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = given.or_else(|| std::env::var_os("WEIR_SDK_DIR").map(PathBuf::from)) {
        return Ok(dir);
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk");
    if built_from.is_dir() {
        return Ok(built_from);
    }
    bail!("cannot find the weir SDK (guest-sdk/ of the weir repository): pass --sdk DIR or set WEIR_SDK_DIR")
}
