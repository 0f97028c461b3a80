//! `ocpp-harness new --lang rust|python|js NAME`: a suite that builds and runs as is, with one
//! case per role, so an author starts from something green. Python and JavaScript scaffolds
//! carry their SDK file and a copy of the WIT contract; the Rust one depends on the SDK crate
//! of this checkout.
use std::path::{Path, PathBuf};

use anyhow::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    Js,
}

const WIT: &str = include_str!("../../wit/harness.wit");

/// Files of a scaffold: (path in the new directory, text with `{{...}}` placeholders).
fn files(lang: Lang) -> Vec<(&'static str, String)> {
    match lang {
        Lang::Rust => vec![("Cargo.toml", include_str!("../templates/rust/Cargo.toml").into()), ("src/lib.rs", include_str!("../templates/rust/lib.rs").into())],
        Lang::Python => vec![
            ("app.py", include_str!("../templates/python/app.py").into()),
            ("ocpp_kit.py", include_str!("../../testcases/python/ocpp_kit.py").into()),
            ("wit/harness.wit", WIT.into()),
        ],
        Lang::Js => vec![
            ("suite.js", include_str!("../templates/js/suite.js").into()),
            ("kit.js", include_str!("../../testcases/js/kit.js").into()),
            ("build.mjs", include_str!("../../testcases/js/build.mjs").replace("'../../wit'", "'wit'")),
            ("package.json", include_str!("../templates/js/package.json").into()),
            ("wit/harness.wit", WIT.into()),
        ],
    }
}

/// The SDK crate of this checkout, for the Rust scaffold's path dependency.
fn sdk_dir() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testcases/sdk");
    p.canonicalize().unwrap_or(p)
}

/// Write a new suite called `name` into `dir`; returns the files written.
pub fn scaffold(lang: Lang, name: &str, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    anyhow::ensure!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') && name.starts_with(|c: char| c.is_ascii_alphabetic()),
        "a suite name is letters, digits, '-' and '_', starting with a letter: {name:?}"
    );
    if dir.exists() && dir.read_dir().map(|mut d| d.next().is_some()).unwrap_or(true) {
        anyhow::bail!("{} exists and is not empty; not overwriting", dir.display());
    }
    let krate = name.to_lowercase().replace('_', "-");
    let vars = [
        ("{{name}}", name.to_string()),
        ("{{crate}}", krate.clone()),
        ("{{crate_snake}}", krate.replace('-', "_")),
        // Case ids: OH_<PREFIX>_B_01_CS, clear of the OCA's TC_ ids and of other suites.
        ("{{prefix}}", name.to_uppercase().replace('-', "_")),
        ("{{sdk}}", sdk_dir().display().to_string()),
    ];
    let mut written = vec![];
    for (path, text) in files(lang) {
        let text = vars.iter().fold(text, |t, (k, v)| t.replace(k, v));
        let dest = dir.join(path);
        std::fs::create_dir_all(dest.parent().unwrap()).with_context(|| format!("creating {}", dest.display()))?;
        std::fs::write(&dest, text).with_context(|| format!("writing {}", dest.display()))?;
        written.push(dest);
    }
    Ok(written)
}

/// How to build and run a scaffold, for the terminal.
pub fn next_steps(lang: Lang, name: &str, dir: &Path) -> String {
    let krate = name.to_lowercase().replace('_', "-");
    let d = dir.display();
    match lang {
        Lang::Rust => format!(
            "cd {d} && cargo build --release --target wasm32-wasip2\nocpp-harness run --suite {d}/target/wasm32-wasip2/release/{}.wasm",
            krate.replace('-', "_")
        ),
        Lang::Python => format!("cd {d} && componentize-py -d wit -w test-suite componentize app -o {krate}.wasm   # pip install componentize-py==0.25.1\nocpp-harness run --suite {d}/{krate}.wasm"),
        Lang::Js => format!("cd {d} && npm install && node build.mjs {krate}.wasm\nocpp-harness run --suite {d}/{krate}.wasm"),
    }
}
