//! `init`: what a lab engineer answers about a DUT — side, versions, certification profiles,
//! the PICS items of part 5, and the lab settings (ids, tokens, EVSEs, security, timing) — and
//! the DUT description written from it. The answers come from prompts (the CLI) or from a TOML
//! file (`init --answers FILE`, for CI); either way they are checked here, and the description
//! lists every PICS item of the side with its label, declared or not, so a reviewer sees what
//! was left out.
use std::fmt::Write as _;

use serde::Deserialize;

use crate::{
    description::{DutDescription, DutKind, Timing},
    pics,
};
use ocpp_core::version::OcppVersion;

/// Certification profiles by our names (part 5's, and the catalogue's own extra ones).
pub const PROFILES: &[(&str, &str)] = &[
    ("core", "Core (always)"),
    ("advanced-security", "Advanced Security"),
    ("local-auth-list", "Local Authorization List Management"),
    ("smart-charging", "Smart Charging"),
    ("reservation", "Reservation"),
    ("advanced-device-management", "Advanced Device Management"),
    ("advanced-user-interface", "Advanced User Interface"),
    ("iso15118", "ISO 15118 Support"),
    ("remote-trigger", "remote trigger (1.6)"),
    ("tariff-cost", "tariff and cost (2.1)"),
    ("der-control", "DER control (2.1)"),
    ("bidirectional", "bidirectional power transfer (2.1)"),
];

/// The answers, as the prompts collect them or an answers file gives them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Answers {
    /// Vendor, model, firmware: the report's name for the DUT.
    pub name: String,
    pub side: DutKind,
    pub versions: Vec<OcppVersion>,
    #[serde(default)]
    pub profiles: Vec<String>,
    #[serde(default)]
    pub pics: Vec<String>,
    #[serde(default = "default_station_id")]
    pub station_id: String,
    #[serde(default)]
    pub valid_id_tokens: Vec<String>,
    pub invalid_id_token: Option<String>,
    #[serde(default = "one")]
    pub evses: u32,
    /// 0-3.
    #[serde(default)]
    pub security_profile: u8,
    /// Profiles 1-2: the environment variable holding the Basic-auth password (never the
    /// password itself in a file).
    pub password_env: Option<String>,
    /// Profiles 2-3: the directory with the lab's PKI (`pki init` makes a test one).
    pub pki: Option<String>,
    #[serde(default)]
    pub timing: Timing,
}

fn default_station_id() -> String {
    "CS001".into()
}

fn one() -> u32 {
    1
}

impl Answers {
    /// What is wrong with the answers, all at once.
    pub fn check(&self) -> Result<(), String> {
        let mut problems = vec![];
        if self.name.trim().is_empty() {
            problems.push("name is empty".to_string());
        }
        if self.versions.is_empty() {
            problems.push("no OCPP version".into());
        }
        for p in self.profiles.iter().filter(|p| !PROFILES.iter().any(|(n, _)| n == p)) {
            problems.push(format!("unknown profile {p:?} (known: {})", PROFILES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")));
        }
        let known = pics::items_for(self.side == DutKind::ChargingStation);
        for id in self.pics.iter().filter(|id| !known.iter().any(|(_, i)| &i.id == *id)) {
            problems.push(format!("{id:?} is not a PICS item of a {}", side_name(self.side)));
        }
        if self.station_id.is_empty() || self.station_id.contains(['/', ' ']) {
            problems.push(format!("station id {:?} must be non-empty, without '/' or spaces", self.station_id));
        }
        if self.evses == 0 {
            problems.push("evses must be at least 1".into());
        }
        if self.security_profile > 3 {
            problems.push(format!("security profile {} is not 0-3", self.security_profile));
        }
        if matches!(self.security_profile, 1 | 2) && self.password_env.is_none() {
            problems.push(format!("security profile {} needs password-env (the variable with the Basic-auth password)", self.security_profile));
        }
        if self.security_profile >= 2 && self.pki.is_none() {
            problems.push(format!("security profile {} needs pki (a directory with the lab's certificates)", self.security_profile));
        }
        if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
    }

    /// The DUT description for these answers (checked first), commented.
    pub fn description(&self) -> Result<String, String> {
        self.check()?;
        let mut t = String::new();
        let list = |v: &[String]| v.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ");
        let _ = writeln!(t, "# DUT description written by `ocpp-harness init`; edit freely. Use: `ocpp-harness run --dut FILE`.");
        let _ = writeln!(t, "name = {:?}", self.name);
        let _ = writeln!(t, "kind = {:?}", side_name(self.side));
        let _ = writeln!(t, "versions = [{}]", list(&self.versions.iter().map(ToString::to_string).collect::<Vec<_>>()));
        let mut profiles = vec!["core".to_string()];
        profiles.extend(self.profiles.iter().filter(|p| *p != "core").cloned());
        let _ = writeln!(t, "profiles = [{}]", list(&profiles));
        let _ = writeln!(t, "station-id = {:?}", self.station_id);
        if !self.valid_id_tokens.is_empty() {
            let _ = writeln!(t, "valid-id-tokens = [{}]", list(&self.valid_id_tokens));
        }
        if let Some(i) = &self.invalid_id_token {
            let _ = writeln!(t, "invalid-id-token = {i:?}");
        }
        if self.side == DutKind::ChargingStation {
            let _ = writeln!(t, "evses = {}", self.evses);
        }
        // Every PICS item of the side, declared ones in the list, the rest as comments.
        let _ = writeln!(t, "\n# OCPP 2.0.1 part 5 PICS: the items that hold for this DUT. Conditional cases run only");
        let _ = writeln!(t, "# when part 5's condition on them holds.");
        t.push_str("pics = [\n");
        let mut group = String::new();
        for (g, item) in pics::items_for(self.side == DutKind::ChargingStation) {
            if g != group {
                let _ = writeln!(t, "  # {g}");
                group = g;
            }
            let declared = self.pics.contains(&item.id);
            let _ = writeln!(t, "  {}{:?}, # {}", if declared { "" } else { "# " }, item.id, item.label);
        }
        t.push_str("]\n");
        if self.security_profile > 0 {
            let _ = writeln!(t, "\n[security]\nprofile = {}", self.security_profile);
            if let Some(env) = &self.password_env {
                let _ = writeln!(t, "password-env = {env:?}");
            }
            if let Some(pki) = &self.pki {
                let _ = writeln!(t, "pki = {pki:?}");
            }
        }
        let d = self.timing;
        let _ = writeln!(t, "\n[timing]\nconnect-ms = {}\nreboot-ms = {}\nresponse-ms = {}\ntolerance-ms = {}", d.connect_ms, d.reboot_ms, d.response_ms, d.tolerance_ms);
        // What we write must load as a description: a test of our own output.
        DutDescription::parse(&t).map_err(|e| format!("the description written does not load: {e:#}"))?;
        Ok(t)
    }
}

pub fn side_name(side: DutKind) -> &'static str {
    match side {
        DutKind::ChargingStation => "charging-station",
        DutKind::Csms => "csms",
    }
}

/// Read an answers file.
pub fn answers_from(text: &str) -> Result<Answers, String> {
    toml::from_str(text).map_err(|e| format!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATION: &str = r#"
        name = "ACME AC22, firmware 1.2"
        side = "charging-station"
        versions = ["2.0.1"]
        profiles = ["local-auth-list"]
        pics = ["C-30", "C-49", "HFS-1"]
        valid-id-tokens = ["04E91C5A8B2F80"]
        evses = 2
        security-profile = 2
        password-env = "CS001_PASSWORD"
        pki = "pki"
        [timing]
        reboot-ms = 60000
    "#;

    #[test]
    fn answers_become_a_description_that_loads_and_selects() {
        let text = answers_from(STATION).unwrap().description().unwrap();
        let d = DutDescription::parse(&text).unwrap();
        assert_eq!(d.pics, ["C-30", "C-49", "HFS-1"]);
        assert_eq!(d.profiles, ["core", "local-auth-list"]);
        assert_eq!((d.evses, d.timing.map(|t| t.reboot_ms)), (Some(2), Some(60_000)));
        assert!(text.contains("# \"C-02\", # offline: lets unknown ids charge"), "undeclared items stay visible as comments");
        assert!(text.contains("password-env = \"CS001_PASSWORD\""));
    }

    #[test]
    fn wrong_answers_are_all_named() {
        let mut a = answers_from(STATION).unwrap();
        a.pics.push("C-44".into()); // a CSMS item
        a.profiles.push("teleport".into());
        a.password_env = None;
        a.evses = 0;
        let e = a.check().unwrap_err();
        for needle in ["\"C-44\" is not a PICS item of a charging-station", "unknown profile \"teleport\"", "needs password-env", "evses must be at least 1"] {
            assert!(e.contains(needle), "{needle}: {e}");
        }
        assert!(answers_from("name = \"x\"\nside = \"charging-station\"\nversions = [\"2.0.1\"]\nflavour = 1").unwrap_err().contains("flavour"));
    }
}
