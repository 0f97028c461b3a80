//! PICS: what a DUT declares about itself in OCPP 2.0.1 part 5's terms — optional features
//! (C-01 … C-60, AS-, SC-, R-, DM-, ISO-, LA-, UI-), the lab questions (AQ-) and the hardware
//! features (HFS-) — and the conditions part 5 puts on its conditional test cases, as our copy
//! of its table gives them (`data/octt-ids-by-profile.csv`, column `features`): "C-49 and (C-30
//! or C-31 or C-32)", "NOT (SC-2.1 and SC-2.2)", "C-30 - C-35 or ISO 15118 support", "HFS-8 > 1",
//! profile names, and the product subtype. The items themselves, with our own short labels,
//! are in `data/pics.toml` (what `init` asks).
use std::collections::BTreeSet;

use serde::Deserialize;

const ITEMS: &str = include_str!("../data/pics.toml");

/// Which side an item is asked of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Cs,
    Csms,
    Both,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub side: Side,
    pub label: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub group: String,
    pub items: Vec<Item>,
}

#[derive(Deserialize)]
struct File {
    item: Vec<Group>,
}

/// Every PICS item, by group, in part 5's order.
pub fn groups() -> Vec<Group> {
    toml::from_str::<File>(ITEMS).expect("data/pics.toml is valid (a unit test parses it)").item
}

/// The items asked of one side (`station`: the DUT is a charging station).
pub fn items_for(station: bool) -> Vec<(String, Item)> {
    let side = if station { Side::Cs } else { Side::Csms };
    groups().into_iter().flat_map(|g| g.items.into_iter().filter(move |i| i.side == side || i.side == Side::Both).map(move |i| (g.group.clone(), i))).collect()
}

/// What a condition is evaluated against.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// PICS ids that hold (normalised: `C-06.1`).
    pub items: BTreeSet<String>,
    /// Certification profiles claimed, by our names (`local-auth-list`).
    pub profiles: Vec<String>,
    /// HFS-8: the number of EVSEs.
    pub evses: u32,
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Item(String),
    /// Any item from the first to the last id of one family ("C-30 - C-35").
    Range(String, String),
    Profile(String),
    /// HFS-8 > n.
    EvsesAbove(u32),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

impl Cond {
    pub fn holds(&self, d: &Declared) -> bool {
        match self {
            Cond::Item(id) => d.items.contains(id),
            Cond::Range(from, to) => {
                let (Some((fam, lo)), Some((fam2, hi))) = (split(from), split(to)) else { return false };
                d.items.iter().filter_map(|i| split(i)).any(|(f, n)| f == fam && fam == fam2 && n >= lo && n <= hi)
            }
            Cond::Profile(p) => d.profiles.iter().any(|x| x == p),
            Cond::EvsesAbove(n) => d.evses > *n,
            Cond::Not(c) => !c.holds(d),
            Cond::And(cs) => cs.iter().all(|c| c.holds(d)),
            Cond::Or(cs) => cs.iter().any(|c| c.holds(d)),
        }
    }
}

/// "C-30" -> ("C", 30.0); "C-10.3" -> ("C", 10.3).
fn split(id: &str) -> Option<(&str, f64)> {
    let (fam, n) = id.split_once('-')?;
    Some((fam, n.parse().ok()?))
}

/// An item id as part 5 writes it, normalised (it also writes "C35" and "C.06.1").
fn item_id(word: &str) -> Option<String> {
    let upper = word.to_ascii_uppercase();
    let fam: String = upper.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    if fam.is_empty() || fam.len() > 3 {
        return None;
    }
    let rest = upper[fam.len()..].trim_start_matches(['-', '.']);
    let ok = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.') && rest.starts_with(|c: char| c.is_ascii_digit());
    ok.then(|| format!("{fam}-{rest}"))
}

/// Multi-word terms, replaced by one token before splitting.
const PHRASES: &[(&str, &str)] = &[
    ("product subtype \"mode 1/2-only charging station\"", "mode-1-2-only"),
    ("local authorization list management", "profile:local-auth-list"),
    ("iso 15118 support", "profile:iso15118"),
    ("iso15118 support", "profile:iso15118"),
    ("smart charging", "profile:smart-charging"),
    // "C-36-(or) C-39": a range.
    ("-(or)", "-"),
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Not,
    Term(Cond),
}

fn tokens(text: &str) -> Result<Vec<Tok>, String> {
    let mut s = text.to_ascii_lowercase();
    for (phrase, token) in PHRASES {
        s = s.replace(phrase, &format!(" {token} "));
    }
    let s = s.replace('(', " ( ").replace(')', " ) ");
    let words: Vec<&str> = s.split_whitespace().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let tok = match w {
            "(" => Tok::Open,
            ")" => Tok::Close,
            "and" => Tok::And,
            "or" => Tok::Or,
            "not" => Tok::Not,
            _ if w.starts_with("profile:") => Tok::Term(Cond::Profile(w["profile:".len()..].to_string())),
            "mode-1-2-only" => Tok::Term(Cond::Item("MODE-1-2-ONLY".into())),
            _ => {
                let id = item_id(w).ok_or_else(|| format!("{w:?} is not a PICS item"))?;
                // "HFS-8 > 1": more EVSEs than that.
                if id == "HFS-8" && words.get(i + 1) == Some(&">") {
                    let n = words.get(i + 2).and_then(|n| n.parse().ok()).ok_or("HFS-8 > needs a number")?;
                    i += 3;
                    out.push(Tok::Term(Cond::EvsesAbove(n)));
                    continue;
                }
                // "C-30 - C-35": a range.
                if words.get(i + 1) == Some(&"-") {
                    let to = words.get(i + 2).and_then(|w| item_id(w)).ok_or_else(|| format!("a range from {id} needs an end"))?;
                    i += 3;
                    out.push(Tok::Term(Cond::Range(id, to)));
                    continue;
                }
                Tok::Term(Cond::Item(id))
            }
        };
        out.push(tok);
        i += 1;
    }
    Ok(out)
}

/// The part of a condition for one side, where part 5 gives one per side ("CSMS: C-16
/// Charging Station: …", "For CSMS: R-1  For CS: R-2"); the whole text otherwise.
pub fn for_side(text: &str, station: bool) -> &str {
    const CSMS: [&str; 2] = ["For CSMS:", "CSMS:"];
    const CS: [&str; 2] = ["For CS:", "Charging Station:"];
    let find = |marks: &[&str]| marks.iter().find_map(|m| text.find(m).map(|at| (at, at + m.len())));
    let (Some(csms), Some(cs)) = (find(&CSMS), find(&CS)) else { return text };
    let (mine, other) = if station { (cs, csms) } else { (csms, cs) };
    let end = if other.0 > mine.1 { other.0 } else { text.len() };
    text[mine.1..end].trim()
}

/// Parse a condition: NOT binds tightest, then AND, then OR.
pub fn parse(text: &str) -> Result<Cond, String> {
    let toks = tokens(text)?;
    let mut pos = 0;
    let c = or(&toks, &mut pos)?;
    if pos != toks.len() {
        return Err(format!("unexpected {:?} in {text:?}", toks[pos]));
    }
    Ok(c)
}

fn or(t: &[Tok], pos: &mut usize) -> Result<Cond, String> {
    let mut parts = vec![and(t, pos)?];
    while t.get(*pos) == Some(&Tok::Or) {
        *pos += 1;
        parts.push(and(t, pos)?);
    }
    Ok(if parts.len() == 1 { parts.remove(0) } else { Cond::Or(parts) })
}

fn and(t: &[Tok], pos: &mut usize) -> Result<Cond, String> {
    let mut parts = vec![unary(t, pos)?];
    while t.get(*pos) == Some(&Tok::And) {
        *pos += 1;
        parts.push(unary(t, pos)?);
    }
    Ok(if parts.len() == 1 { parts.remove(0) } else { Cond::And(parts) })
}

fn unary(t: &[Tok], pos: &mut usize) -> Result<Cond, String> {
    match t.get(*pos) {
        Some(Tok::Not) => {
            *pos += 1;
            Ok(Cond::Not(Box::new(unary(t, pos)?)))
        }
        Some(Tok::Open) => {
            *pos += 1;
            let c = or(t, pos)?;
            if t.get(*pos) != Some(&Tok::Close) {
                return Err("a ( is not closed".into());
            }
            *pos += 1;
            Ok(c)
        }
        Some(Tok::Term(c)) => {
            *pos += 1;
            Ok(c.clone())
        }
        other => Err(format!("expected a PICS item, got {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(items: &[&str]) -> Declared {
        Declared { items: items.iter().map(|s| s.to_string()).collect(), profiles: vec![], evses: 1 }
    }

    #[test]
    fn conditions_read_as_part_5_means_them() {
        let c = parse("C-49 and (C-30 or C-31 or C-32)").unwrap();
        assert!(c.holds(&declared(&["C-49", "C-31"])));
        assert!(!c.holds(&declared(&["C-49"])));
        assert!(!c.holds(&declared(&["C-30"])));
        let not = parse("NOT (SC-2.1 and SC-2.2)").unwrap();
        assert!(not.holds(&declared(&["SC-2.1"])) && !not.holds(&declared(&["SC-2.1", "SC-2.2"])));
        assert_eq!(parse("C-36-(or) C-39").unwrap(), Cond::Range("C-36".into(), "C-39".into()));
        let range = parse("C-30 - C-35 or ISO 15118 support").unwrap();
        assert!(range.holds(&declared(&["C-33"])) && !range.holds(&declared(&["C-36"])));
        assert!(range.holds(&Declared { profiles: vec!["iso15118".into()], ..declared(&[]) }));
        let lal = parse("(C-30 or C-31 or C-34) and (Local Authorization List Management or C-49)").unwrap();
        assert!(lal.holds(&Declared { profiles: vec!["local-auth-list".into()], ..declared(&["C-34"]) }));
        let evses = parse("HFS-8 > 1").unwrap();
        assert!(!evses.holds(&declared(&[])) && evses.holds(&Declared { evses: 2, ..declared(&[]) }));
        let subtype = parse("HFS-1 and NOT Product Subtype \"Mode 1/2-only Charging Station\"").unwrap();
        assert!(subtype.holds(&declared(&["HFS-1"])) && !subtype.holds(&declared(&["HFS-1", "MODE-1-2-ONLY"])));
        // Spellings part 5 also uses.
        assert_eq!(parse("C35").unwrap(), Cond::Item("C-35".into()));
        assert_eq!(parse("C.06.1").unwrap(), Cond::Item("C-06.1".into()));
        assert!(parse("Not C-56").unwrap().holds(&declared(&[])));
        assert!(parse("C-44 or NOT AQ-6").unwrap().holds(&declared(&[])));
        // Precedence: NOT, then AND, then OR.
        assert!(parse("C-01 or C-02 and C-03").unwrap().holds(&declared(&["C-01"])));
        assert!(parse("C-01 and (C-02").is_err());
        // One condition per side.
        assert_eq!(for_side("For CSMS: R-1  For CS: R-2", true), "R-2");
        assert_eq!(for_side("For CSMS: R-1  For CS: R-2", false), "R-1");
        assert_eq!(for_side("CSMS: C-16 Charging Station: NOT C-06.2", true), "NOT C-06.2");
        assert_eq!(for_side("CSMS: C-16 Charging Station: NOT C-06.2", false), "C-16");
        assert!(parse("NOT Smart Charging").unwrap().holds(&declared(&[])));
        assert!(parse("C-01 and teleport").is_err());
    }

    /// Every condition of the table parses except the few whose text is itself broken (they
    /// count as unknown: such cases run).
    #[test]
    fn the_table_conditions_parse() {
        let rows = crate::coverage::table();
        let conditions: BTreeSet<&str> = rows.iter().map(|r| r.features.trim()).filter(|f| !f.is_empty()).collect();
        let broken: Vec<&&str> = conditions.iter().filter(|c| parse(for_side(c, true)).is_err() || parse(for_side(c, false)).is_err()).collect();
        assert!(conditions.len() > 60, "{} conditions", conditions.len());
        assert!(broken.len() <= 2, "conditions that do not parse: {broken:?}");
    }

    #[test]
    fn the_items_load_and_are_unique_per_side() {
        for station in [true, false] {
            let items = items_for(station);
            let mut ids: Vec<&str> = items.iter().map(|(_, i)| i.id.as_str()).collect();
            let n = ids.len();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), n, "an id twice for one side");
            assert!(ids.iter().all(|id| item_id(id).as_deref() == Some(*id) || *id == "MODE-1-2-ONLY"), "{ids:?}");
        }
        assert!(items_for(true).iter().any(|(_, i)| i.id == "C-49"));
        assert!(items_for(false).iter().any(|(_, i)| i.id == "C-44"));
    }
}
