//! How much of OCPP 2.0.1's certification test list (part 5, "Test Cases <profile>" tables) the
//! loaded suites cover, per certification profile and DUT side: the fact table is our own copy
//! (`data/octt-ids-by-profile.csv`: test id, mandatory or conditional per role, the PICS
//! features a condition names). A case covers an id when it carries that id with the suffix of
//! its DUT side (`TC_B_01` + `_CS` for a charging station, `_CSMS` for a CSMS).
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use ocpp_core::{case::{CaseMeta, Role}, version::OcppVersion};

const TABLE: &str = include_str!("../data/octt-ids-by-profile.csv");

/// Whether part 5 makes an id mandatory or conditional for one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Mandatory,
    Conditional,
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub profile: String,
    pub id: String,
    pub station: Option<Need>,
    pub csms: Option<Need>,
    /// The condition's PICS features, as the table gives them.
    pub features: String,
}

/// "M" is mandatory; "C" or a condition's text is conditional; empty is not required.
fn need(cell: &str) -> Option<Need> {
    match cell.trim() {
        "" => None,
        "M" => Some(Need::Mandatory),
        _ => Some(Need::Conditional),
    }
}

/// The fact table, parsed once (it has no quoted commas: four separators a row).
pub fn table() -> &'static [Row] {
    static ROWS: std::sync::OnceLock<Vec<Row>> = std::sync::OnceLock::new();
    ROWS.get_or_init(|| {
        TABLE
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| {
                let f: Vec<&str> = l.splitn(5, ',').collect();
                (f.len() >= 4).then(|| Row { profile: f[0].into(), id: f[1].into(), station: need(f[2]), csms: need(f[3]), features: f.get(4).unwrap_or(&"").to_string() })
            })
            .collect()
    })
}

/// Coverage of one profile for one DUT side.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Tally {
    pub profile: String,
    /// The DUT: "charging station" or "CSMS".
    pub dut: &'static str,
    pub mandatory: usize,
    pub mandatory_covered: usize,
    pub conditional: usize,
    pub conditional_covered: usize,
    /// Ids of the table not covered, mandatory first.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    pub tallies: Vec<Tally>,
    /// Our cases with a TC_ id the table does not list (OCTT ids of another version or errata).
    pub unlisted: Vec<String>,
    /// Our own cases (OH_ ids) at 2.0.1.
    pub own: usize,
    /// OCPP 1.6, which has no part 5 list here: cases per DUT side.
    pub v16: V16Tally,
    /// The cases that declare deviations from their part-6 tables, with them.
    pub deviations: Vec<(String, Vec<String>)>,
}

/// OCPP 1.6 cases by DUT side: those with an OCA test id (TC_) and our own (OH_).
#[derive(Debug, Clone, Default, Serialize)]
pub struct V16Tally {
    pub csms_oca: usize,
    pub csms_own: usize,
    pub station_oca: usize,
    pub station_own: usize,
}

/// The coverage of 2.0.1's list by `cases`.
pub fn of(cases: &[CaseMeta]) -> Coverage {
    of_faithful(cases, &BTreeSet::new(), OcppVersion::V201)
}

/// The coverage of 2.0.1's list by `cases`, where an id whose case `fidelity` found with a
/// difference not declared (`unfaithful`) does not count: a case that carries an id without
/// doing what its part-6 table does covers nothing. Such ids are listed as missing with
/// "(unfaithful)". `at`: the version the cases must run at to count (2.0.1's list read for
/// 2.1, which keeps its use cases: the ids a run at 2.1 covers).
pub fn of_faithful(cases: &[CaseMeta], unfaithful: &BTreeSet<String>, at: OcppVersion) -> Coverage {
    let ours: BTreeSet<&str> = cases.iter().filter(|c| c.versions.contains(&at)).map(|c| c.id.as_str()).collect();
    let rows = table();
    let mut tallies: BTreeMap<(String, &'static str), Tally> = BTreeMap::new();
    let mut listed = BTreeSet::new();
    for r in rows {
        for (need, dut, suffix) in [(r.station, Role::Csms.dut(), "_CS"), (r.csms, Role::ChargingStation.dut(), "_CSMS")] {
            let Some(need) = need else { continue };
            let ours_id = format!("{}{suffix}", r.id);
            listed.insert(ours_id.clone());
            let t = tallies.entry((r.profile.clone(), dut)).or_insert_with(|| Tally { profile: r.profile.clone(), dut, ..Default::default() });
            let unfaithful_here = unfaithful.contains(&ours_id);
            let covered = ours.contains(ours_id.as_str()) && !unfaithful_here;
            match need {
                Need::Mandatory => {
                    t.mandatory += 1;
                    t.mandatory_covered += usize::from(covered);
                }
                Need::Conditional => {
                    t.conditional += 1;
                    t.conditional_covered += usize::from(covered);
                }
            }
            if !covered {
                let at = if need == Need::Mandatory { t.missing.iter().take_while(|m| !m.ends_with(" (C)")).count() } else { t.missing.len() };
                let ours_id = if unfaithful_here { format!("{ours_id} (unfaithful)") } else { ours_id };
                t.missing.insert(at, if need == Need::Mandatory { ours_id } else { format!("{ours_id} (C)") });
            }
        }
    }
    let unlisted = ours.iter().filter(|id| id.starts_with("TC_") && !listed.contains(**id)).map(|s| s.to_string()).collect();
    let own = ours.iter().filter(|id| id.starts_with("OH_")).count();
    let mut v16 = V16Tally::default();
    for c in cases.iter().filter(|c| c.versions.contains(&OcppVersion::V16)) {
        let oca = c.id.starts_with("TC_");
        let tally = match (c.role, oca) {
            (Role::ChargingStation, true) => &mut v16.csms_oca,
            (Role::ChargingStation, false) => &mut v16.csms_own,
            (_, true) => &mut v16.station_oca,
            (_, false) => &mut v16.station_own,
        };
        *tally += 1;
    }
    let deviations = cases.iter().filter(|c| !c.deviations.is_empty()).map(|c| (c.id.clone(), c.deviations.clone())).collect();
    Coverage { tallies: tallies.into_values().collect(), unlisted, own, v16, deviations }
}

/// The ids a `fidelity --json` report found with differences no declared deviation accounts for.
pub fn unfaithful_in(report: &serde_json::Value) -> BTreeSet<String> {
    report.as_array().into_iter().flatten().filter(|c| c["differences"].as_array().is_some_and(|d| !d.is_empty())).filter_map(|c| c["id"].as_str().map(str::to_string)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_part_5s_numbers() {
        let rows = table();
        assert_eq!(rows.len(), 461);
        let core = |f: fn(&Row) -> Option<Need>, n: Need| rows.iter().filter(|r| r.profile == "Core" && f(r) == Some(n)).count();
        // Core: 104 mandatory ids per role; conditional 117 + 26, plus TC_F_06, whose row gives
        // its conditions in the M/C columns themselves.
        assert_eq!((core(|r| r.station, Need::Mandatory), core(|r| r.station, Need::Conditional)), (104, 118));
        assert_eq!((core(|r| r.csms, Need::Mandatory), core(|r| r.csms, Need::Conditional)), (104, 27));
    }

    #[test]
    fn a_case_covers_the_id_of_its_dut_side_only() {
        let meta = |id: &str, role| CaseMeta {
            suite: "s".into(),
            id: id.into(),
            title: "t".into(),
            versions: vec![OcppVersion::V201],
            role,
            profile: "core".into(),
            features: vec![],
            requirements: vec!["B01".into()],
            needs: vec![],
            timeout_ms: 1,
            deviations: vec![],
        };
        let cases = [meta("TC_B_01_CS", Role::Csms), meta("TC_Z_99_CS", Role::Csms), meta("OH_X_01_CS", Role::Csms)];
        let c = of(&cases);
        let core_cs = c.tallies.iter().find(|t| t.profile == "Core" && t.dut == "charging station").unwrap();
        let core_csms = c.tallies.iter().find(|t| t.profile == "Core" && t.dut == "CSMS").unwrap();
        assert_eq!((core_cs.mandatory, core_cs.mandatory_covered), (104, 1));
        assert_eq!(core_csms.mandatory_covered, 0);
        assert!(!core_cs.missing.contains(&"TC_B_01_CS".to_string()) && core_csms.missing.contains(&"TC_B_01_CSMS".to_string()));
        assert_eq!((c.unlisted, c.own), (vec!["TC_Z_99_CS".to_string()], 1));
        // The same case found unfaithful covers nothing, and says so.
        let report = serde_json::json!([{"id": "TC_B_01_CS", "differences": [{"kind": "missing", "step": "3", "message": "x"}]}, {"id": "TC_B_02_CS", "differences": []}]);
        let unfaithful = unfaithful_in(&report);
        assert_eq!(unfaithful.iter().collect::<Vec<_>>(), ["TC_B_01_CS"]);
        let c = of_faithful(&cases, &unfaithful, OcppVersion::V201);
        let core_cs = c.tallies.iter().find(|t| t.profile == "Core" && t.dut == "charging station").unwrap();
        assert_eq!(core_cs.mandatory_covered, 0);
        assert!(core_cs.missing.iter().any(|m| m == "TC_B_01_CS (unfaithful)"), "{:?}", core_cs.missing);
        // At 2.1 only the cases that run at 2.1 count.
        let c = of_faithful(&cases, &BTreeSet::new(), OcppVersion::V21);
        assert_eq!(c.tallies.iter().find(|t| t.profile == "Core" && t.dut == "charging station").unwrap().mandatory_covered, 0);
    }
}
