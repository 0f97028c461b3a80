//! `report merge`: the reports of shards as one run.
use std::{path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use ocpp_report::{Counts, ReportWriter};

/// One report from the shards' reports; a case reported by two shards is an error.
pub(crate) fn merge(out: &std::path::Path, inputs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut duts = Vec::new();
    let mut cases = Vec::new();
    for input in inputs {
        let (dut, mut c) = ocpp_report::read_results(input)?;
        if !duts.contains(&dut) {
            duts.push(dut);
        }
        cases.append(&mut c);
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = cases.iter().find(|c| !seen.insert((c.meta.suite.clone(), c.meta.id.clone(), c.version))) {
        anyhow::bail!("{} ({}) is in more than one input: were the shards of the same partition?", dup.meta.id, dup.version);
    }
    let writer = ReportWriter::new(out, duts.join(" + ")).with_context(|| format!("creating {}", out.display()))?;
    writer.write(&cases)?;
    let c = Counts::of(&cases);
    println!("merged {} cases from {} reports into {}: {} passed; {} failed; {} errors; {} skipped; {} inconclusive",
        cases.len(), inputs.len(), out.display(), c.passed, c.failed, c.errors, c.skipped, c.inconclusive);
    Ok(if c.failed + c.errors == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
