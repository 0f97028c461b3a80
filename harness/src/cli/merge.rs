//! `report merge`: the reports of shards as one run.
use std::{path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use ocpp_report::{Counts, ReportWriter};

/// One report from the shards' reports; a case reported by two shards is an error.
pub(crate) fn merge(out: &std::path::Path, inputs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut duts = Vec::new();
    let mut cases = Vec::new();
    let mut info = ocpp_report::RunInfo::default();
    for input in inputs {
        let mut run = ocpp_report::read_results(input)?;
        if !duts.contains(&run.dut) {
            duts.push(run.dut);
        }
        // Shards of one run ran the same suites with the same settings (the shard aside).
        if info.suites.is_empty() {
            info = run.info;
            info.settings.remove("partition");
        }
        cases.append(&mut run.cases);
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = cases.iter().find(|c| !seen.insert((c.meta.suite.clone(), c.meta.id.clone(), c.version))) {
        anyhow::bail!("{} ({}) is in more than one input: were the shards of the same partition?", dup.meta.id, dup.version);
    }
    let mut writer = ReportWriter::new(out, duts.join(" + ")).with_context(|| format!("creating {}", out.display()))?;
    writer.set_run_info(info);
    writer.write(&cases)?;
    let c = Counts::of(&cases);
    say!("merged {} cases from {} reports into {}: {} passed; {} failed; {} errors; {} skipped; {} inconclusive",
        cases.len(), inputs.len(), out.display(), c.passed, c.failed, c.errors, c.skipped, c.inconclusive);
    Ok(if c.failed + c.errors == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
