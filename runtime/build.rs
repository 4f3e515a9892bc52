//! Embeds `templates/` (the `weir new` scaffolds) into the binary: every file under
//! `templates/LANG/` becomes an entry of `TEMPLATE_FILES` in `$OUT_DIR/templates.rs`, so
//! adding a language or a file needs no code change.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).expect("templates/ is readable").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut all = Vec::new();
    files(&root, &mut all);
    let mut code = String::from("/// (language or `common`, path in the new directory, text, executable).\npub const TEMPLATE_FILES: &[(&str, &str, &str, bool)] = &[\n");
    for path in all {
        println!("cargo:rerun-if-changed={}", path.display());
        let relative = path.strip_prefix(&root).expect("under templates/");
        let mut parts = relative.components();
        let lang = parts.next().expect("a language directory").as_os_str().to_string_lossy().into_owned();
        let inner = parts.as_path().to_string_lossy().replace('\\', "/");
        let executable = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&path).expect("metadata").permissions().mode() & 0o111 != 0
        };
        code.push_str(&format!("    ({lang:?}, {inner:?}, include_str!({:?}), {executable}),\n", path.display().to_string()));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("templates.rs");
    std::fs::write(out, code).expect("writing templates.rs");
}
