//! The CI templates in examples/ci parse as YAML, and the shard and merge commands written in
//! them work on this machine: each file's N shards run as N processes side by side on a small
//! selection, the merge joins their reports, and the merged verdicts equal one plain run's.
use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
};

use yaml_rust2::{Yaml, YamlLoader};

const SELECTION: &str = "--role csms --ocpp 2.0.1 TC_B_0";

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_ocpp-harness")).parent().unwrap().to_path_buf()
}

fn load(name: &str) -> Vec<Yaml> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ci").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

/// Every string in the documents, depth first.
fn strings(y: &Yaml, out: &mut Vec<String>) {
    match y {
        Yaml::String(s) => out.push(s.clone()),
        Yaml::Array(a) => a.iter().for_each(|y| strings(y, out)),
        Yaml::Hash(h) => h.iter().for_each(|(k, v)| {
            strings(k, out);
            strings(v, out);
        }),
        _ => {}
    }
}

/// The one command of the file that contains `needle`.
fn command(docs: &[Yaml], needle: &str) -> String {
    let mut all = vec![];
    docs.iter().for_each(|d| strings(d, &mut all));
    let found: Vec<&String> = all.iter().filter(|s| s.contains(needle)).collect();
    assert_eq!(found.len(), 1, "expected one command with {needle:?}, found {found:?}");
    found[0].clone()
}

/// Run `script` with `sh -c` in `dir`, the harness on PATH, with these variables.
fn sh(dir: &Path, script: &str, env: &[(&str, String)]) -> std::process::Child {
    let path = format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default());
    Command::new("sh").arg("-c").arg(script).current_dir(dir).env("PATH", path).env("HARNESS_ARGS", SELECTION).envs(env.iter().map(|(k, v)| (*k, v.as_str()))).stdout(std::process::Stdio::null()).spawn().expect("sh")
}

/// (id, version, verdict) of every case in a results.json.
fn verdicts(results: &Path) -> BTreeSet<(String, String, String)> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(results).unwrap_or_else(|e| panic!("{}: {e}", results.display()))).unwrap();
    v["cases"].as_array().unwrap().iter().map(|c| (c["meta"]["id"].as_str().unwrap().into(), c["version"].as_str().unwrap().into(), c["verdict"].as_str().unwrap().into())).collect()
}

/// Run `shards` shard commands (each with its own variables), move each shard's reports where
/// the platform's artifact step would put them, merge, and compare with one plain run.
fn check(name: &str, run: &str, merge: &str, shards: usize, shard_env: impl Fn(usize) -> Vec<(&'static str, String)>, artifact: impl Fn(usize) -> Option<(String, String)>) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ci-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let children: Vec<_> = (1..=shards).map(|k| sh(&dir, run, &shard_env(k))).collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "{name}: a shard failed: {run}");
    }
    for k in 1..=shards {
        if let Some((from, to)) = artifact(k) {
            std::fs::create_dir_all(dir.join(&to).parent().unwrap()).unwrap();
            std::fs::rename(dir.join(&from), dir.join(&to)).unwrap();
        }
    }
    assert!(sh(&dir, merge, &[]).wait().unwrap().success(), "{name}: the merge failed: {merge}");
    let merged = std::fs::read_dir(dir.join("reports")).unwrap().map(|e| e.unwrap().path()).find(|p| p.ends_with("merged")).expect("reports/merged");
    let single = sh(&dir, "ocpp-harness run --reports single $HARNESS_ARGS", &[]).wait().unwrap();
    assert!(single.success(), "the single run failed");
    let (m, s) = (verdicts(&merged.join("results.json")), verdicts(&dir.join("single/results.json")));
    assert!(s.len() >= 3, "the selection ran only {s:?}");
    assert_eq!(m, s, "{name}: the merged shards differ from one run");
}

#[test]
fn github_actions_matrix_and_merge() {
    let docs = load("github-actions.yml");
    let run = command(&docs, "ocpp-harness run --partition").replace("${{ matrix.shard }}", "$SHARD").replace("${{ env.SHARDS }}", "$SHARDS");
    let merge = command(&docs, "ocpp-harness report merge");
    let doc = &docs[0];
    let shards = doc["jobs"]["shard"]["strategy"]["matrix"]["shard"].as_vec().expect("a shard matrix").len();
    assert_eq!(doc["env"]["SHARDS"].as_i64(), Some(shards as i64), "env SHARDS matches the matrix");
    assert_eq!(doc["jobs"]["merge"]["needs"].as_str(), Some("shard"));
    // upload-artifact "reports-shard-K" from reports/shard-K; download-artifact puts it in reports/reports-shard-K.
    check("github", &run, &merge, shards, |k| vec![("SHARD", k.to_string()), ("SHARDS", shards.to_string())], |k| Some((format!("reports/shard-{k}"), format!("reports/reports-shard-{k}"))));
}

#[test]
fn gitlab_parallel_job_and_merge() {
    let docs = load("gitlab-ci.yml");
    let run = command(&docs, "ocpp-harness run --partition");
    let merge = command(&docs, "ocpp-harness report merge");
    let shards = docs[0]["ocpp-shard"]["parallel"].as_i64().expect("parallel: N") as usize;
    assert_eq!(docs[0]["ocpp-report"]["artifacts"]["reports"]["junit"].as_str(), Some("reports/merged/junit.xml"));
    check("gitlab", &run, &merge, shards, |k| vec![("CI_NODE_INDEX", k.to_string()), ("CI_NODE_TOTAL", shards.to_string())], |_| None);
}

#[test]
fn kubernetes_indexed_job_and_merge() {
    let docs = load("kubernetes-indexed-job.yml");
    assert_eq!(docs.len(), 2, "the shards Job and the merge Job");
    let spec = &docs[0]["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let shards = spec["completions"].as_i64().expect("completions") as usize;
    let env = &spec["template"]["spec"]["containers"][0]["env"];
    let declared = env.as_vec().unwrap().iter().find(|e| e["name"].as_str() == Some("SHARDS")).and_then(|e| e["value"].as_str()).and_then(|v| v.parse().ok());
    assert_eq!(declared, Some(shards), "env SHARDS matches completions");
    // The pods share a volume mounted at /reports; here it is the test's reports/ directory.
    let run = command(&docs, "ocpp-harness run --partition").replace("/reports/", "reports/");
    let merge = command(&docs, "ocpp-harness report merge").replace("/reports/", "reports/");
    check("kubernetes", &run, &merge, shards, |k| vec![("JOB_COMPLETION_INDEX", (k - 1).to_string()), ("SHARDS", shards.to_string())], |_| None);
}
