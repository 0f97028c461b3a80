//! `init`: the questionnaire that writes a DUT description (prompts on a terminal, or
//! `--answers FILE`); the checks and the description itself are `ocpp_harness::questionnaire`.
use std::{io::IsTerminal as _, path::Path, process::ExitCode};

use anyhow::Context as _;
use dialoguer::{Confirm, Input, MultiSelect, Select, theme::ColorfulTheme};
use ocpp_core::version::OcppVersion;
use ocpp_harness::{
    description::{DutKind, Timing},
    pics,
    questionnaire::{Answers, PROFILES, answers_from},
};

pub(crate) fn init(answers: Option<&Path>, out: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let a = match answers {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading the answers {}", path.display()))?;
            answers_from(&text).map_err(|e| anyhow::anyhow!("in the answers {}: {e}", path.display()))?
        }
        None => ask()?,
    };
    let text = a.description().map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(force || !out.exists(), "{} exists; give --force to replace it, or --out another file", out.display());
    std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    say!("wrote {} ({} PICS items declared); run it with `ocpp-harness run --dut {}`", out.display(), a.pics.len(), out.display());
    Ok(ExitCode::SUCCESS)
}

/// The questions, one screen at a time.
fn ask() -> anyhow::Result<Answers> {
    anyhow::ensure!(std::io::stdin().is_terminal(), "init asks its questions on a terminal; without one (CI) give the answers as a file: init --answers FILE");
    let theme = ColorfulTheme::default();
    let name: String = Input::with_theme(&theme).with_prompt("The DUT: vendor, model, firmware").interact_text()?;
    let side = match Select::with_theme(&theme).with_prompt("Which side is the DUT?").items(["a charging station", "a CSMS"]).default(0).interact()? {
        0 => DutKind::ChargingStation,
        _ => DutKind::Csms,
    };
    let all = [OcppVersion::V16, OcppVersion::V201, OcppVersion::V21];
    let picked = MultiSelect::with_theme(&theme).with_prompt("OCPP versions it speaks (space to select)").items(all.map(|v| v.to_string())).defaults(&[false, true, false]).interact()?;
    let versions = picked.into_iter().map(|i| all[i]).collect();
    let optional: Vec<&(&str, &str)> = PROFILES.iter().filter(|(n, _)| *n != "core").collect();
    let picked = MultiSelect::with_theme(&theme).with_prompt("Certification profiles it claims besides Core").items(optional.iter().map(|(_, label)| *label)).interact()?;
    let profiles = picked.into_iter().map(|i| optional[i].0.to_string()).collect();
    let mut declared = vec![];
    let items = pics::items_for(side == DutKind::ChargingStation);
    let mut groups: Vec<String> = items.iter().map(|(g, _)| g.clone()).collect();
    groups.dedup();
    for g in groups {
        let in_group: Vec<&pics::Item> = items.iter().filter(|(x, _)| *x == g).map(|(_, i)| i).collect();
        let labels: Vec<String> = in_group.iter().map(|i| format!("{:<7} {}", i.id, i.label)).collect();
        let picked = MultiSelect::with_theme(&theme).with_prompt(format!("PICS, {g}: what holds for the DUT")).items(&labels).interact()?;
        declared.extend(picked.into_iter().map(|i| in_group[i].id.clone()));
    }
    let station_id: String = Input::with_theme(&theme).with_prompt("Station id").default("CS001".into()).interact_text()?;
    let tokens: String = Input::with_theme(&theme).with_prompt("Valid id tokens (comma-separated; empty for the harness's)").allow_empty(true).interact_text()?;
    let invalid: String = Input::with_theme(&theme).with_prompt("An id token the DUT must refuse (empty for the harness's)").allow_empty(true).interact_text()?;
    let evses = if side == DutKind::ChargingStation { Input::with_theme(&theme).with_prompt("EVSEs").default(1u32).interact_text()? } else { 1 };
    let security_profile = Select::with_theme(&theme).with_prompt("Security profile").items(["0: none", "1: Basic auth", "2: TLS + Basic auth", "3: TLS with client certificates"]).default(0).interact()? as u8;
    let password_env = matches!(security_profile, 1 | 2)
        .then(|| Input::with_theme(&theme).with_prompt("Environment variable with the Basic-auth password").default("OCPP_PASSWORD".to_string()).interact_text())
        .transpose()?;
    let pki = (security_profile >= 2).then(|| Input::with_theme(&theme).with_prompt("Directory with the lab's PKI (ocpp-harness pki init makes a test one)").default("pki".to_string()).interact_text()).transpose()?;
    let mut timing = Timing::default();
    if !Confirm::with_theme(&theme).with_prompt(format!("Default timings (connect {} ms, reboot {} ms, answer {} ms, tolerance {} ms)?", timing.connect_ms, timing.reboot_ms, timing.response_ms, timing.tolerance_ms)).default(true).interact()? {
        timing.connect_ms = Input::with_theme(&theme).with_prompt("Connect or reconnect within (ms)").default(timing.connect_ms).interact_text()?;
        timing.reboot_ms = Input::with_theme(&theme).with_prompt("Reboot and reconnect within (ms)").default(timing.reboot_ms).interact_text()?;
        timing.response_ms = Input::with_theme(&theme).with_prompt("Answer a CALL within (ms)").default(timing.response_ms).interact_text()?;
        timing.tolerance_ms = Input::with_theme(&theme).with_prompt("Tolerance on timed behaviour (ms)").default(timing.tolerance_ms).interact_text()?;
    }
    let list = |s: &str| s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect::<Vec<_>>();
    Ok(Answers {
        name,
        side,
        versions,
        profiles,
        pics: declared,
        station_id,
        valid_id_tokens: list(&tokens),
        invalid_id_token: Some(invalid).filter(|i| !i.trim().is_empty()),
        evses,
        security_profile,
        password_env,
        pki,
        timing,
    })
}
