//! Bounded fuzzing of the two paths every DUT byte goes through: the OCPP-J frame parser and
//! schema validation (plus the fault mutators that run on the same payloads). Seeds come from
//! `tests/fuzz-corpus/`, the regression corpus: every file there is checked as is, then
//! mutated for `OCPP_FUZZ_SECONDS` (default 2; `scripts/fuzz.sh` runs longer). An input that
//! panics is written to `target/fuzz-crashes/` and fails the test; add it to the corpus once fixed.
use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use ocpp_sim as dut;
use ocpp_core::{frame::Frame, schema::{self, Direction}, version::OcppVersion};

/// Feed one input through everything a received frame meets.
fn exercise(text: &str) {
    for v in OcppVersion::ALL {
        let Ok(frame) = Frame::parse(text, v) else { continue };
        let _ = frame.to_text();
        if let Frame::Call { action, payload, .. } | Frame::Send { action, payload, .. } = frame {
            let _ = schema::validate(v, &action, Direction::Request, &payload);
            let mut p = payload.clone();
            let _ = dut::swap_enum(v, &action, Direction::Request, &mut p);
            dut::corrupt(v, &action, Direction::Request, &mut p);
            let _ = schema::validate(v, &action, Direction::Response, &payload);
        }
    }
}

/// xorshift64*: deterministic, so a run can be repeated from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &["[", "]", "{", "}", ",", ":", "\"", "null", "true", "-0", "1e999", "18446744073709551616", "\"\\u0000\"", "\"\\ud800\"", "[[[[[[[[[[[[[[[[", "2", "3", "4", "5", "6", "\"BootNotification\"", "\"\""];

fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(6) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 => b.insert(at, rng.next() as u8),
            2 if !b.is_empty() => {
                let end = (at + rng.below(16)).min(b.len());
                b.drain(at.min(end)..end);
            }
            3 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                b.splice(at..at, t.iter().copied());
            }
            4 if !other.is_empty() => {
                let from = rng.below(other.len());
                let to = (from + rng.below(64)).min(other.len());
                b.splice(at..at, other[from..to].iter().copied());
            }
            _ => {
                let end = (at + rng.below(32)).min(b.len());
                let chunk = b[at.min(end)..end].to_vec();
                b.splice(at..at, chunk);
            }
        }
    }
    b
}

fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fuzz-corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("tests/fuzz-corpus").map(|e| e.unwrap().path()).collect();
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

fn run_one(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    catch_unwind(AssertUnwindSafe(|| exercise(&text))).is_ok()
}

#[test]
fn regression_corpus_is_handled() {
    let seeds = corpus();
    assert!(seeds.len() >= 5, "the corpus is missing");
    for (path, bytes) in &seeds {
        assert!(run_one(bytes), "{} panics", path.display());
    }
}

#[test]
fn mutated_frames_never_panic() {
    let seconds: u64 = std::env::var("OCPP_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    let seed: u64 = std::env::var("OCPP_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_0CC0);
    let seeds = corpus();
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut runs = 0u64;
    std::panic::set_hook(Box::new(|_| {})); // crashes are reported below, with their input
    while Instant::now() < deadline {
        let (_, a) = &seeds[rng.below(seeds.len())];
        let (_, b) = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, a, b);
        runs += 1;
        if !run_one(&input) {
            let _ = std::panic::take_hook();
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes");
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("crash-{seed}-{runs}.json"));
            std::fs::write(&path, &input).unwrap();
            panic!("input #{runs} (seed {seed}) panics; saved to {}", path.display());
        }
    }
    let _ = std::panic::take_hook();
    eprintln!("fuzz: {runs} inputs in {seconds} s, seed {seed}, no panic");
    assert!(runs > 100, "only {runs} inputs were tried");
}
