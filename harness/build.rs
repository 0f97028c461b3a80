//! Builds the built-in test suites (testcases/*) for wasm32-wasip2 and embeds them, so the
//! `ocpp-harness` binary runs its main job on a fresh machine with nothing else installed.
use std::{env, fmt::Write as _, fs, path::{Path, PathBuf}, process::Command};

/// Built-in suites: (crate name in testcases/, name of the embedded constant).
/// `hostile` is a test fixture (cases that attack the host), not part of the catalogue.
const SUITES: &[(&str, &str)] = &[("core", "ocpp_suite_core"), ("hostile", "ocpp_suite_hostile")];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    build_suites(&manifest, &out);
}

fn build_suites(manifest: &Path, out: &Path) {
    let root = manifest.parent().unwrap();
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    // Only the Rust guests: testcases/js holds node_modules, far too many files to watch.
    for dir in ["core", "hostile", "sdk"] {
        println!("cargo:rerun-if-changed={}", root.join("testcases").join(dir).display());
    }
    // Separate target dir: the outer cargo holds the lock on the workspace's own.
    let target_dir = root.join("target").join("guests");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut code = String::new();
    for (krate, name) in SUITES {
        let status = Command::new(&cargo)
            .current_dir(root)
            .args(["build", "--release", "--target", "wasm32-wasip2", "-p", &format!("ocpp-suite-{krate}")])
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("CARGO_TARGET_DIR")
            .status()
            .expect("running cargo for the guest suites");
        if !status.success() {
            panic!(
                "building the guest suite testcases/{krate} for wasm32-wasip2 failed; \
                 is the target installed? (`rustup target add wasm32-wasip2`)"
            );
        }
        let wasm = target_dir.join("wasm32-wasip2/release").join(format!("{name}.wasm"));
        writeln!(code, "pub static {}: &[u8] = include_bytes!({:?});", name.to_uppercase(), wasm.display().to_string()).unwrap();
        writeln!(code, "pub const {}_NAME: &str = {krate:?};", name.to_uppercase()).unwrap();
    }
    fs::write(out.join("suites.rs"), code).unwrap();
}
