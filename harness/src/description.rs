//! The DUT description: a TOML file in which a vendor or lab declares what the device under
//! test is — which side, which OCPP versions, certification profiles and optional features,
//! and the parameters cases need (station id, id tokens, EVSE count, free keys). Cases that do
//! not apply to the declared device are skipped with the reason instead of failing.
//! Parsed strictly: an unknown key is an error, so a typo cannot silently widen a run.
use std::{collections::BTreeMap, path::Path};

use anyhow::Context as _;
use serde::Deserialize;

use ocpp_core::{case::{CaseMeta, Role}, version::OcppVersion};

/// Which side of OCPP the DUT plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DutKind {
    ChargingStation,
    Csms,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DutDescription {
    /// Free text for the report: vendor, model, firmware.
    #[serde(default)]
    pub name: Option<String>,
    /// The side the DUT plays; cases for the other side are skipped.
    pub kind: Option<DutKind>,
    /// OCPP versions the DUT speaks (default: all).
    #[serde(default)]
    pub versions: Vec<OcppVersion>,
    /// Certification profiles the DUT claims (`core`, `local-auth-list`...). `core` is implied.
    #[serde(default)]
    pub profiles: Vec<String>,
    /// Optional features it supports (`auth-cache`, `offline-authorization`...); `[]` says
    /// it has none, leaving the key out says nothing (see `says`).
    #[serde(default)]
    pub features: Option<Vec<String>>,
    /// The PICS items of OCPP 2.0.1 part 5 that hold for the DUT (`C-49`, `AQ-2`, `HFS-1`…;
    /// `init` asks them). When given, a case part 5 marks conditional for the DUT's side runs
    /// only if its condition holds.
    #[serde(default)]
    pub pics: Vec<String>,
    pub station_id: Option<String>,
    pub valid_id_tokens: Option<Vec<String>>,
    pub invalid_id_token: Option<String>,
    /// The type of those tokens (2.x `IdTokenType.type`: ISO14443, ISO15693, eMAID, Central...);
    /// cases read it as parameter `id-token-type`. Default ISO14443.
    pub id_token_type: Option<String>,
    /// Number of EVSEs of a charging station.
    pub evses: Option<u32>,
    /// The EVSE cases plug in at, start on and change (part 6's "<Configured evseId>");
    /// cases read it as parameter `evse-id`. Default 1.
    pub evse_id: Option<u32>,
    /// The connector under test on that EVSE ("<Configured connectorId>"), parameter
    /// `connector-id`. Default 1.
    pub connector_id: Option<u32>,
    /// Any further parameter a case reads through `config.parameter`.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Security profile, password and PKI directory (`[security]`).
    pub security: Option<ocpp_core::security::SecurityConfig>,
    /// The lab's timing for this device (`[timing]`), used by every case instead of constants.
    pub timing: Option<Timing>,
}

/// How long the DUT may take for what cases wait on, in milliseconds (`[timing]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Timing {
    /// To connect, or to reconnect after a drop (its back-off included).
    pub connect_ms: u32,
    /// To reboot and connect again (Reset, power cycle).
    pub reboot_ms: u32,
    /// To answer a CALL.
    pub response_ms: u32,
    /// How far a timed behaviour (an interval, a time-out) may be off; OCTT labs use 4 s.
    pub tolerance_ms: u32,
    /// How long after its last frame the harness sends its Close: a DUT that reads an answer
    /// and a Close together may lose the answer.
    pub close_linger_ms: u32,
}

impl Default for Timing {
    fn default() -> Self {
        Timing { connect_ms: 10_000, reboot_ms: 15_000, response_ms: 10_000, tolerance_ms: 1_000, close_linger_ms: ocpp_core::session::CLOSE_AFTER_LAST_FRAME.as_millis() as u32 }
    }
}

impl Timing {
    /// What a case may take beyond its own time-out because the lab's timing is slower than
    /// the defaults the catalogue was written for.
    pub fn extra(&self) -> std::time::Duration {
        let d = Timing::default();
        let over = |a: u32, b: u32| u64::from(a.saturating_sub(b));
        // A case reboots or reconnects at most a couple of times and waits on a few answers.
        let ms = 2 * over(self.reboot_ms, d.reboot_ms) + 2 * over(self.connect_ms, d.connect_ms) + 4 * over(self.response_ms, d.response_ms);
        std::time::Duration::from_millis(ms)
    }
}

impl DutDescription {
    pub fn load(path: &Path) -> anyhow::Result<DutDescription> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading the DUT description {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in the DUT description {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<DutDescription> {
        let d: DutDescription = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        if d.evses == Some(0) {
            anyhow::bail!("evses must be at least 1");
        }
        if d.evse_id == Some(0) || d.connector_id == Some(0) {
            anyhow::bail!("evse-id and connector-id count from 1 (0 is the station as a whole)");
        }
        if let (Some(id), n) = (d.evse_id, d.evses.unwrap_or(1)) {
            if id > n {
                anyhow::bail!("evse-id = {id}, but the station has {n} EVSE(s) (evses)");
            }
        }
        Ok(d)
    }

    /// Ok when the case applies to this DUT at `version`, else why not (the skip reason).
    pub fn applies(&self, meta: &CaseMeta, version: OcppVersion) -> Result<(), String> {
        let dut_side = match meta.role {
            Role::Csms => DutKind::ChargingStation,
            Role::ChargingStation => DutKind::Csms,
        };
        if self.kind.is_some_and(|k| k != dut_side) {
            return Err(format!("the case is for a {} DUT, and the DUT description declares the other side", meta.role.dut()));
        }
        if !self.versions.is_empty() && !self.versions.contains(&version) {
            return Err(format!("the DUT description does not list OCPP {version}"));
        }
        if meta.profile != "core" && !self.profiles.contains(&meta.profile) {
            return Err(format!("the DUT description does not claim the profile {:?}", meta.profile));
        }
        // The lab's word on each optional feature; where it says nothing, a feature the
        // station's own configuration shows is left to the inventory (`inventory::lacks`).
        if let Some(f) = meta.features.iter().find(|f| !self.says(f).unwrap_or_else(|| crate::inventory::shows(f))) {
            return Err(format!("the DUT description does not declare the optional feature {f:?}"));
        }
        self.pics_allow(meta, version)
    }

    /// The lab's word on an optional feature: claimed (in `features`, or by the part 5 PICS
    /// item that is that feature: the authorization cache is C-49), denied (the description
    /// has a `features` list, even an empty one, or PICS without it), or None when it has
    /// neither. The one rule the run follows is "the lab's word, else the station's
    /// configuration".
    pub fn says(&self, feature: &str) -> Option<bool> {
        const PICS_OF: [(&str, &str); 1] = [("auth-cache", "C-49")];
        let claimed = self.features.iter().flatten().any(|f| f == feature) || PICS_OF.iter().any(|(f, item)| *f == feature && self.pics.iter().any(|p| p == item));
        (claimed || self.features.is_some() || !self.pics.is_empty()).then_some(claimed)
    }

    /// Part 5's condition on the case's OCTT id for the DUT's side, against the declared PICS:
    /// Ok when there are none, the id is not conditional, or the condition holds (a condition
    /// that cannot be read does not keep a case from running).
    fn pics_allow(&self, meta: &CaseMeta, version: OcppVersion) -> Result<(), String> {
        if self.pics.is_empty() || version != OcppVersion::V201 {
            return Ok(());
        }
        let octt = meta.id.strip_suffix("_CSMS").or_else(|| meta.id.strip_suffix("_CS")).unwrap_or(&meta.id);
        let Some(row) = crate::coverage::table().iter().find(|r| r.id == octt) else { return Ok(()) };
        let need = match meta.role {
            Role::Csms => row.station,
            Role::ChargingStation => row.csms,
        };
        if need != Some(crate::coverage::Need::Conditional) || row.features.trim().is_empty() {
            return Ok(());
        }
        let text = crate::pics::for_side(&row.features, meta.role == Role::Csms);
        let Ok(condition) = crate::pics::parse(text) else { return Ok(()) };
        let declared = crate::pics::Declared { items: self.pics.iter().cloned().collect(), profiles: self.profiles.clone(), evses: self.evses.unwrap_or(1) };
        if condition.holds(&declared) {
            Ok(())
        } else {
            Err(format!("part 5 runs {octt} only if {}; the DUT's PICS do not say so", text.trim()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With PICS declared, a conditional case runs only when part 5's condition holds; a
    /// mandatory one always; without PICS nothing changes.
    #[test]
    fn conditional_cases_follow_the_declared_pics() {
        let meta = |id: &str, role: Role| CaseMeta {
            suite: "s".into(),
            id: id.into(),
            title: String::new(),
            versions: vec![OcppVersion::V201],
            role,
            profile: "core".into(),
            features: vec![],
            requirements: vec![],
            needs: vec![],
            timeout_ms: 1,
            deviations: vec![],
        };
        let station = |pics: &str| DutDescription::parse(&format!("kind = \"charging-station\"\npics = [{pics}]")).unwrap();
        // TC_C_32 (authorization cache) is conditional on C-49 and a local authorization method.
        let cached = meta("TC_C_32_CS", Role::Csms);
        let e = station("\"C-30\"").applies(&cached, OcppVersion::V201).unwrap_err();
        assert!(e.contains("TC_C_32") && e.contains("C-49"), "{e}");
        assert!(station("\"C-30\", \"C-49\"").applies(&cached, OcppVersion::V201).is_ok());
        assert!(station("").applies(&cached, OcppVersion::V201).is_ok(), "no PICS: the case runs");
        assert!(station("\"C-30\"").applies(&meta("TC_B_01_CS", Role::Csms), OcppVersion::V201).is_ok(), "mandatory");
        // TC_B_30 is mandatory for a station and conditional (C-44 or NOT AQ-6) for a CSMS.
        let csms = |pics: &str| DutDescription::parse(&format!("kind = \"csms\"\npics = [{pics}]")).unwrap();
        let b30 = meta("TC_B_30_CSMS", Role::ChargingStation);
        assert!(csms("\"AQ-6\"").applies(&b30, OcppVersion::V201).is_err());
        assert!(csms("\"AQ-6\", \"C-44\"").applies(&b30, OcppVersion::V201).is_ok());
    }

    #[test]
    fn lab_timing_is_read_strictly_and_extends_the_case_limit() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/dut/real-station.toml");
        let d = DutDescription::load(&path).unwrap();
        let t = d.timing.unwrap();
        assert_eq!((t.connect_ms, t.reboot_ms, t.tolerance_ms), (40_000, 60_000, 4_000));
        assert!(t.extra() >= std::time::Duration::from_secs(90), "a slow reboot lengthens the case limit: {:?}", t.extra());
        assert_eq!(Timing::default().extra(), std::time::Duration::ZERO);
        let typo = DutDescription::parse("[timing]\nreboot-msec = 1000\n").unwrap_err();
        assert!(format!("{typo:#}").contains("reboot-msec"), "{typo:#}");
        let partial = DutDescription::parse("[timing]\nreboot-ms = 30000\n").unwrap().timing.unwrap();
        assert_eq!((partial.reboot_ms, partial.response_ms), (30_000, Timing::default().response_ms));
    }

    #[test]
    fn a_csms_description_gives_the_station_its_tokens_type_and_back_off() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/dut/real-csms.toml");
        let d = DutDescription::load(&path).unwrap();
        let mut opts = crate::runner::RunOptions::default();
        opts.describe(d);
        let c = &opts.config;
        assert_eq!((c.station_id.as_str(), c.valid_id_tokens.len(), c.invalid_id_token.as_str()), ("HARNESS-CS-01", 3, "0FD3B6A2"));
        assert_eq!(c.parameters.get("id-token-type").map(String::as_str), Some("ISO14443"));
        assert_eq!(c.parameters.get("retry-back-off-wait-minimum-s").map(String::as_str), Some("5"));
        assert!(c.valid_id_tokens.iter().all(|t| ocpp_sim::variant::is_iso14443_uid(t)), "{:?}", c.valid_id_tokens);
    }

    fn meta(profile: &str, features: &[&str], role: Role) -> CaseMeta {
        CaseMeta {
            suite: "s".into(),
            id: "TC_X_01_CS".into(),
            title: "t".into(),
            versions: vec![OcppVersion::V201],
            role,
            profile: profile.into(),
            features: features.iter().map(|f| f.to_string()).collect(),
            requirements: vec!["B01".into()],
            needs: vec![],
            timeout_ms: 1,
            deviations: vec![],
        }
    }

    #[test]
    fn cases_outside_the_declaration_are_skipped_with_the_reason() {
        let d = DutDescription::parse(
            r#"
            kind = "charging-station"
            versions = ["2.0.1"]
            profiles = ["core"]
            features = ["auth-cache"]
            "#,
        )
        .unwrap();
        assert!(d.applies(&meta("core", &[], Role::Csms), OcppVersion::V201).is_ok());
        assert!(d.applies(&meta("core", &["auth-cache"], Role::Csms), OcppVersion::V201).is_ok());
        assert!(d.applies(&meta("local-auth-list", &[], Role::Csms), OcppVersion::V201).unwrap_err().contains("local-auth-list"));
        assert!(d.applies(&meta("core", &["offline-authorization"], Role::Csms), OcppVersion::V201).unwrap_err().contains("offline-authorization"));
        assert!(d.applies(&meta("core", &[], Role::ChargingStation), OcppVersion::V201).unwrap_err().contains("other side"));
        assert!(d.applies(&meta("core", &[], Role::Csms), OcppVersion::V16).unwrap_err().contains("1.6"));
        // A PICS item that is the feature claims it too.
        let by_pics = DutDescription::parse("kind = \"charging-station\"\npics = [\"C-49\"]").unwrap();
        assert!(by_pics.applies(&meta("core", &["auth-cache"], Role::Csms), OcppVersion::V201).is_ok());
        // PICS without C-49: the lab says the station has no cache.
        let no_cache = DutDescription::parse("kind = \"charging-station\"\npics = [\"C-30\"]").unwrap();
        assert!(no_cache.applies(&meta("core", &["auth-cache"], Role::Csms), OcppVersion::V201).is_err());
        // An empty list is the lab's word too: no optional features.
        let none = DutDescription::parse("kind = \"charging-station\"\nfeatures = []").unwrap();
        assert_eq!(none.says("auth-cache"), Some(false));
        // Silent: the station's configuration decides what it can show (the cache), and a
        // feature no setting shows is not assumed.
        let silent = DutDescription::parse("kind = \"charging-station\"").unwrap();
        assert_eq!(silent.says("auth-cache"), None);
        assert!(silent.applies(&meta("core", &["auth-cache"], Role::Csms), OcppVersion::V201).is_ok());
        assert!(silent.applies(&meta("core", &["lock"], Role::Csms), OcppVersion::V201).is_err());
    }

    #[test]
    fn broken_descriptions_are_clear_errors() {
        let typo = DutDescription::parse("profils = [\"core\"]").unwrap_err().to_string();
        assert!(typo.contains("unknown field") && typo.contains("profils"), "{typo}");
        let version = DutDescription::parse("versions = [\"3.0\"]").unwrap_err().to_string();
        assert!(version.contains("3.0"), "{version}");
        assert!(DutDescription::parse("evses = 0").unwrap_err().to_string().contains("at least 1"));
        assert!(DutDescription::parse("evse-id = 2").unwrap_err().to_string().contains("has 1 EVSE"));
        assert!(DutDescription::parse("evses = 2\nconnector-id = 0").unwrap_err().to_string().contains("count from 1"));
        assert_eq!(DutDescription::parse("evses = 2\nevse-id = 2").unwrap().evse_id, Some(2));
    }
}
