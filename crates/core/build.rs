//! Embeds every OCPP JSON schema (crates/core/schemas) as a static table, so validation needs
//! no files at run time.
use std::{env, fmt::Write as _, fs, path::{Path, PathBuf}};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    embed_schemas(&manifest.join("schemas"), &out.join("schemas.rs"));
}

fn embed_schemas(dir: &Path, dest: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut code = String::from("/// (\"v201/BootNotificationRequest\", schema text)\npub static SCHEMAS: &[(&str, &str)] = &[\n");
    for version in ["v16", "v201", "v21"] {
        let mut files: Vec<_> = fs::read_dir(dir.join(version)).expect("schemas dir").map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
            let stem = f.file_stem().unwrap().to_str().unwrap();
            writeln!(code, "    (\"{version}/{stem}\", include_str!({:?})),", f.display().to_string()).unwrap();
        }
    }
    code.push_str("];\n");
    fs::write(dest, code).unwrap();
}
