//! The `operator` driver: a person at the bench does the action and confirms on the terminal.
//! Only interactive runs can ask; in CI (no terminal, or `CI` set) the capability is missing
//! and the case is skipped with that reason.
use std::{io::IsTerminal as _, time::Duration};

use tokio::io::AsyncBufReadExt as _;

/// Whether this run can ask a person.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::env::var_os("CI").is_none()
}

/// Ask the operator to do `what`; Ok once confirmed, Err on "skip" or after the time-out.
pub async fn ask(what: &str, timeout: Duration) -> Result<(), String> {
    eprintln!("\nOPERATOR: {what}.\n          Press Enter when done, or type skip and Enter.");
    let mut line = String::new();
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
    match tokio::time::timeout(timeout, stdin.read_line(&mut line)).await {
        Err(_) => Err(format!("no confirmation from the operator within {} s", timeout.as_secs())),
        Ok(Err(e)) => Err(format!("reading the operator's answer: {e}")),
        Ok(Ok(0)) => Err("the terminal closed before the operator confirmed".into()),
        Ok(Ok(_)) if line.trim().eq_ignore_ascii_case("skip") => Err("the operator skipped it".into()),
        Ok(Ok(_)) => Ok(()),
    }
}
