//! Case selection with libtest's conventions: positional filters match ids by substring
//! (or exactly with `--exact`), `--skip` removes matches, and role/version narrow further.
use ocpp_core::{case::{CaseMeta, Role}, version::OcppVersion};

#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub filters: Vec<String>,
    pub exact: bool,
    pub skip: Vec<String>,
    pub role: Option<Role>,
    pub version: Option<OcppVersion>,
    /// Only cases of these certification profiles.
    pub profiles: Vec<String>,
    /// Only cases of these functional blocks (`B`, `E`, `RPC`...).
    pub blocks: Vec<String>,
    /// Only this shard of the selection (`--partition hash:K/N`).
    pub partition: Option<Partition>,
}

/// Shard K of N (1-based), by a hash of the case id: stable across machines and runs, and
/// independent of the order or number of other cases, so N CI jobs cover each case once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub k: u32,
    pub n: u32,
}

impl Partition {
    pub fn holds(&self, id: &str) -> bool {
        // FNV-1a: fixed, simple, and the same everywhere (unlike std's hasher).
        let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        h % u64::from(self.n) == u64::from(self.k - 1)
    }
}

impl std::str::FromStr for Partition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("partition {s:?}: expected hash:K/N with 1 <= K <= N");
        let (k, n) = s.strip_prefix("hash:").and_then(|r| r.split_once('/')).ok_or_else(bad)?;
        let (k, n): (u32, u32) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Partition { k, n })
    }
}

impl Selection {
    fn hit(&self, pattern: &str, id: &str) -> bool {
        if self.exact { id == pattern } else { id.contains(pattern) }
    }

    pub fn selects(&self, meta: &CaseMeta) -> bool {
        let id = meta.id.as_str();
        (self.filters.is_empty() || self.filters.iter().any(|f| self.hit(f, id)))
            && !self.skip.iter().any(|s| self.hit(s, id))
            && self.role.is_none_or(|r| r == meta.role)
            && self.version.is_none_or(|v| meta.versions.contains(&v))
            && (self.profiles.is_empty() || self.profiles.contains(&meta.profile))
            && (self.blocks.is_empty() || meta.block().is_some_and(|b| self.blocks.iter().any(|x| x.eq_ignore_ascii_case(&b))))
            && self.partition.is_none_or(|p| p.holds(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, role: Role) -> CaseMeta {
        CaseMeta { suite: "s".into(), id: id.into(), title: String::new(), versions: vec![OcppVersion::V201], role, profile: "core".into(), features: vec![], requirements: vec![], needs: vec![], timeout_ms: 1, deviations: vec![] }
    }

    #[test]
    fn libtest_conventions() {
        let a = meta("TC_B_01_CS", Role::Csms);
        let b = meta("TC_B_01_CSMS", Role::ChargingStation);
        let sel = |f: &[&str], exact, skip: &[&str]| Selection {
            filters: f.iter().map(|s| s.to_string()).collect(),
            exact,
            skip: skip.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        assert!(sel(&[], false, &[]).selects(&a));
        assert!(sel(&["B_01"], false, &[]).selects(&b));
        assert!(!sel(&["TC_B_01_CS"], true, &[]).selects(&b));
        assert!(sel(&["TC_B_01_CS"], true, &[]).selects(&a));
        assert!(!sel(&["B_01"], false, &["CSMS"]).selects(&b));
        let by_role = Selection { role: Some(Role::Csms), ..Default::default() };
        assert!(by_role.selects(&a) && !by_role.selects(&b));
        let by_version = Selection { version: Some(OcppVersion::V16), ..Default::default() };
        assert!(!by_version.selects(&a));
    }

    #[test]
    fn partitions_cover_every_case_once() {
        let ids: Vec<String> = (0..200).map(|i| format!("TC_X_{i}_CS")).collect();
        let shards: Vec<Partition> = (1..=3).map(|k| format!("hash:{k}/3").parse().unwrap()).collect();
        for id in &ids {
            assert_eq!(shards.iter().filter(|p| p.holds(id)).count(), 1, "{id}");
        }
        assert!(shards.iter().all(|p| ids.iter().any(|id| p.holds(id))), "an empty shard");
        for bad in ["hash:0/3", "hash:4/3", "count:1/2", "hash:1"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }
}
