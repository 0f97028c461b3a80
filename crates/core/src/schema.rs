//! JSON-schema validation of every OCPP payload, against the OCA schemas embedded at build
//! time (see crates/core/schemas/SOURCE.md for their origin and licence).
use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
};

use serde_json::Value;

use crate::version::OcppVersion;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/schemas.rs"));
}

/// Which half of an exchange a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The payload of a CALL (or SEND).
    Request,
    /// The payload of a CALLRESULT.
    Response,
}

/// The embedded schema text for an action, if the version defines the action.
pub fn schema_text(version: OcppVersion, action: &str, dir: Direction) -> Option<&'static str> {
    let v = version.schema_dir();
    let candidates: [String; 2] = match (version, dir) {
        (OcppVersion::V16, Direction::Request) => [format!("{v}/{action}"), String::new()],
        (_, Direction::Request) => [format!("{v}/{action}Request"), format!("{v}/{action}")],
        (_, Direction::Response) => [format!("{v}/{action}Response"), String::new()],
    };
    candidates
        .iter()
        .filter(|c| !c.is_empty())
        .find_map(|c| embedded::SCHEMAS.iter().find(|(name, _)| name == c).map(|(_, text)| *text))
}

/// Whether the version defines this action at all.
pub fn knows_action(version: OcppVersion, action: &str) -> bool {
    schema_text(version, action, Direction::Request).is_some()
}

/// Every action the version defines (requests), sorted.
pub fn actions(version: OcppVersion) -> Vec<String> {
    let prefix = format!("{}/", version.schema_dir());
    let mut out: Vec<String> = embedded::SCHEMAS
        .iter()
        .filter_map(|(name, _)| name.strip_prefix(&prefix))
        .filter(|n| !n.ends_with("Response"))
        .map(|n| n.strip_suffix("Request").unwrap_or(n).to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A parsed schema (as a JSON value), for generators such as `defaults`.
pub fn schema_value(version: OcppVersion, action: &str, dir: Direction) -> Option<Arc<Value>> {
    static CACHE: LazyLock<Mutex<HashMap<(OcppVersion, String, Direction), Arc<Value>>>> = LazyLock::new(Default::default);
    let key = (version, action.to_string(), dir);
    if let Some(v) = CACHE.lock().unwrap().get(&key) {
        return Some(v.clone());
    }
    let value: Value = serde_json::from_str(schema_text(version, action, dir)?).expect("embedded schema is JSON");
    let value = Arc::new(value);
    CACHE.lock().unwrap().insert(key, value.clone());
    Some(value)
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaError {
    #[error("OCPP {version} has no action {action:?}")]
    UnknownAction { version: OcppVersion, action: String },
    #[error("{action} {dir} violates its OCPP {version} schema: {}", errors.join("; "))]
    Invalid { version: OcppVersion, action: String, dir: &'static str, errors: Vec<String>, constraint: Constraint },
}

/// The kind of constraint the first violation breaks, which decides the CALLERROR code
/// (OCPP-J 1.6 §4.2.3, OCPP-J 2.x §4.3 Table 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// A value of the wrong JSON type ("somestring": 12).
    Type,
    /// A required field missing, or too few / too many array items.
    Occurrence,
    /// A well-typed value outside what the field allows (enum, length, pattern, range).
    Property,
    /// Anything else that breaks the message's structure (unknown fields...).
    Format,
}

impl Constraint {
    fn of(kind: &jsonschema::error::ValidationErrorKind) -> Constraint {
        use jsonschema::error::ValidationErrorKind as K;
        match kind {
            K::Type { .. } => Constraint::Type,
            K::Required { .. } | K::MinItems { .. } | K::MaxItems { .. } => Constraint::Occurrence,
            K::Enum { .. } | K::Constant { .. } | K::MaxLength { .. } | K::MinLength { .. } | K::Pattern { .. } | K::Format { .. }
            | K::Maximum { .. } | K::Minimum { .. } | K::ExclusiveMaximum { .. } | K::ExclusiveMinimum { .. } | K::MultipleOf { .. } => Constraint::Property,
            _ => Constraint::Format,
        }
    }
}

impl SchemaError {
    /// The CALLERROR code a receiver answers a schema-invalid CALL with.
    pub fn error_code(&self, version: OcppVersion) -> &'static str {
        match (self, version) {
            (SchemaError::UnknownAction { .. }, _) => "NotImplemented",
            (SchemaError::Invalid { constraint: Constraint::Type, .. }, _) => "TypeConstraintViolation",
            (SchemaError::Invalid { constraint: Constraint::Occurrence, .. }, _) => "OccurrenceConstraintViolation",
            (SchemaError::Invalid { constraint: Constraint::Property, .. }, _) => "PropertyConstraintViolation",
            (SchemaError::Invalid { .. }, OcppVersion::V16) => "FormationViolation",
            (SchemaError::Invalid { .. }, _) => "FormatViolation",
        }
    }
}

/// Validate a payload; the error lists every violation with its JSON pointer.
pub fn validate(version: OcppVersion, action: &str, dir: Direction, payload: &Value) -> Result<(), SchemaError> {
    static VALIDATORS: LazyLock<Mutex<HashMap<(OcppVersion, String, Direction), Arc<jsonschema::Validator>>>> =
        LazyLock::new(Default::default);
    let key = (version, action.to_string(), dir);
    let cached = VALIDATORS.lock().unwrap().get(&key).cloned();
    let validator = match cached {
        Some(v) => v,
        None => {
            let schema = schema_value(version, action, dir)
                .ok_or_else(|| SchemaError::UnknownAction { version, action: action.to_string() })?;
            let v = Arc::new(jsonschema::validator_for(&schema).expect("embedded schema compiles"));
            VALIDATORS.lock().unwrap().insert(key, v.clone());
            v
        }
    };
    let mut constraint = None;
    let errors: Vec<String> = validator
        .iter_errors(payload)
        .take(8)
        .map(|e| {
            constraint.get_or_insert_with(|| Constraint::of(e.kind()));
            let path = e.instance_path().to_string();
            format!("{}: {e}", if path.is_empty() { "/" } else { &path })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        let dir = match dir {
            Direction::Request => "request",
            Direction::Response => "response",
        };
        Err(SchemaError::Invalid { version, action: action.to_string(), dir, errors, constraint: constraint.unwrap_or(Constraint::Format) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use OcppVersion::*;

    #[test]
    fn every_embedded_schema_compiles() {
        for v in OcppVersion::ALL {
            let actions = actions(v);
            assert!(actions.len() > 20, "{v}: {actions:?}");
            for a in &actions {
                for d in [Direction::Request, Direction::Response] {
                    if schema_text(v, a, d).is_some() {
                        // An empty object is valid or invalid, but the schema must compile.
                        let _ = validate(v, a, d, &json!({}));
                    }
                }
            }
        }
    }

    #[test]
    fn names_the_violation() {
        let err = validate(V201, "BootNotification", Direction::Request, &json!({"reason": "Nope"})).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("BootNotification request violates"), "{text}");
        assert!(text.contains("/reason"), "{text}");
        assert!(text.contains("chargingStation"), "{text}");
        assert!(["OccurrenceConstraintViolation", "PropertyConstraintViolation"].contains(&err.error_code(V201)), "{text}");
    }

    #[test]
    fn the_error_code_names_the_broken_constraint() {
        let station = json!({"model": "M", "vendorName": "V"});
        let cases = [
            (json!({"reason": 12, "chargingStation": station}), "TypeConstraintViolation"),
            (json!({"reason": "PowerUp"}), "OccurrenceConstraintViolation"),
            (json!({"reason": "Nope", "chargingStation": station}), "PropertyConstraintViolation"),
            (json!({"reason": "PowerUp", "chargingStation": station, "extra": 1}), "FormatViolation"),
        ];
        for (payload, code) in cases {
            let err = validate(V201, "BootNotification", Direction::Request, &payload).unwrap_err();
            assert_eq!(err.error_code(V201), code, "{payload}");
        }
        let err = validate(V16, "StatusNotification", Direction::Request, &json!({"connectorId": "1", "errorCode": "NoError", "status": "Available"})).unwrap_err();
        assert_eq!(err.error_code(V16), "TypeConstraintViolation");
    }

    #[test]
    fn accepts_a_valid_payload_per_version() {
        let boot16 = json!({"chargePointVendor": "V", "chargePointModel": "M"});
        validate(V16, "BootNotification", Direction::Request, &boot16).unwrap();
        let boot201 = json!({"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}});
        validate(V201, "BootNotification", Direction::Request, &boot201).unwrap();
        validate(V21, "BootNotification", Direction::Request, &boot201).unwrap();
        assert!(matches!(
            validate(V16, "TransactionEvent", Direction::Request, &json!({})),
            Err(SchemaError::UnknownAction { .. })
        ));
    }
}
