//! Default answers to background traffic, so a case states only what it tests.
//!
//! The answer to an action is the smallest payload its response schema accepts (enums
//! prefer `Accepted`, date-times are "now"), with a few hand-set fields where the smallest
//! valid value would mislead the DUT (a BootNotification interval of 0, for instance).
use serde_json::{Map, Value, json};

use crate::{schema::{self, Direction}, version::OcppVersion};

/// Id tokens a DUT knows as valid unless its description says otherwise: ISO 14443 UIDs in
/// hex, a 7-byte and a 4-byte one, so that a CSMS that checks the format accepts them.
pub const VALID_ID_TOKENS: [&str; 2] = ["04E91C5A8B2F80", "3A7F2C1D"];
/// An ISO 14443 UID, well formed, that no DUT knows unless its description says otherwise.
pub const INVALID_ID_TOKEN: &str = "0FD3B6A2";
/// Tokens with a status other than Accepted or Invalid, and a group (C01.FR.07, C09), as
/// run parameters: a DUT description's `[parameters]` overrides them, and the built-in CSMS
/// knows them. ISO 14443 UIDs in hex, like the valid ones; the group's members are tokens of
/// their own so that no other case sees a groupIdToken. The master pass (C16) is a token in
/// the group the station's AuthCtrlr.MasterPassGroupId names.
pub const TOKEN_PARAMETERS: [(&str, &str); 7] = [
    ("blocked-id-token", "0B10CCED"),
    ("expired-id-token", "0E0F1DED"),
    ("group-id-token", "0C0FFEE0"),
    ("grouped-id-tokens", "0A11CE01 0B0B0B02"),
    ("master-pass-id-token", "0A5715A5"),
    ("master-pass-group-id", "0FFC1A15"),
    // An ISO 15118 contract (eMAID, ISO 15118-2 annex H), what part 6 calls <Configured eMAID>.
    ("emaid", "NLHRSC000000001"),
];

/// The id token type of the configured tokens (2.x `IdTokenType.type`).
pub const ID_TOKEN_TYPE: &str = "ISO14443";

/// Heartbeat interval the harness (as CSMS) grants by default, in seconds.
pub const BOOT_INTERVAL_S: u64 = 300;

/// The default CALLRESULT payload for a CALL of `action`, or None if the version has no such
/// action.
pub fn answer(version: OcppVersion, action: &str) -> Option<Value> {
    let schema = schema::schema_value(version, action, Direction::Response)?;
    let mut value = minimal(&schema, &schema, 0);
    if action == "BootNotification" {
        value["interval"] = json!(BOOT_INTERVAL_S);
        value["status"] = json!("Accepted");
    }
    if action == "StartTransaction" {
        // A CSMS gives every transaction an id of its own (1.6), also when it answers by default.
        static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(90_001);
        value["transactionId"] = json!(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    }
    debug_assert!(schema::validate(version, action, Direction::Response, &value).is_ok(), "{action}: {value}");
    Some(value)
}

/// The smallest instance of a (sub)schema. `root` resolves local `$ref`s.
pub fn minimal(node: &Value, root: &Value, depth: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let target = reference.strip_prefix('#').and_then(|p| root.pointer(p)).unwrap_or(&Value::Null);
        return minimal(target, root, depth + 1);
    }
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        let accepted = values.iter().find(|v| v.as_str() == Some("Accepted"));
        return accepted.or(values.first()).cloned().unwrap_or(Value::Null);
    }
    let ty = node.get("type").and_then(Value::as_str).unwrap_or("object");
    match ty {
        "object" => {
            let mut out = Map::new();
            let props = node.get("properties");
            for name in node.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                let sub = props.and_then(|p| p.get(name)).unwrap_or(&Value::Null);
                out.insert(name.to_string(), minimal(sub, root, depth + 1));
            }
            Value::Object(out)
        }
        "array" => {
            let n = node.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
            let item = node.get("items").unwrap_or(&Value::Null);
            Value::Array((0..n).map(|_| minimal(item, root, depth + 1)).collect())
        }
        "string" if node.get("format").and_then(Value::as_str) == Some("date-time") => json!(now_rfc3339()),
        "string" => {
            let n = node.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            json!("x".repeat(n))
        }
        "integer" => json!(node.get("minimum").and_then(Value::as_i64).unwrap_or(0)),
        "number" => json!(node.get("minimum").and_then(Value::as_f64).unwrap_or(0.0)),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_of_every_version_has_a_schema_valid_default() {
        for v in OcppVersion::ALL {
            for action in schema::actions(v) {
                if schema::schema_text(v, &action, Direction::Response).is_none() {
                    continue; // 2.1 SEND messages have no response
                }
                let a = answer(v, &action).unwrap();
                if let Err(e) = schema::validate(v, &action, Direction::Response, &a) {
                    panic!("{v} {action}: {e}");
                }
            }
        }
    }

    #[test]
    fn boot_is_accepted_with_a_real_interval() {
        let a = answer(OcppVersion::V201, "BootNotification").unwrap();
        assert_eq!(a["status"], "Accepted");
        assert_eq!(a["interval"], BOOT_INTERVAL_S);
        assert_eq!(answer(OcppVersion::V201, "Authorize").unwrap()["idTokenInfo"]["status"], "Accepted");
        assert!(answer(OcppVersion::V16, "NoSuchAction").is_none());
    }
}
