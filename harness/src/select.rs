//! Case selection with libtest's conventions: positional filters match ids by substring
//! (or exactly with `--exact`), `--skip` removes matches, and role/version narrow further.
use crate::{
    case::{CaseMeta, Role},
    version::OcppVersion,
};

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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, role: Role) -> CaseMeta {
        CaseMeta { suite: "s".into(), id: id.into(), title: String::new(), versions: vec![OcppVersion::V201], role, profile: "core".into(), features: vec![], requirements: vec![], needs: vec![], timeout_ms: 1 }
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
}
