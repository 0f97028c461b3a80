//! BasicAuthPassword rotation (2.x A01/A02 via SetVariables SecurityCtrlr.BasicAuthPassword):
//! a password the harness sends is hidden in traces at once, and one the receiving side
//! accepts is handed to whoever must use it next. A session `Watcher`, so that the session
//! itself knows nothing of passwords.
use serde_json::Value;

use crate::session::Watcher;

/// The BasicAuthPassword a 2.x SetVariables request sets, if it sets one: (entry index, value).
pub fn password_set_by(action: &str, payload: &Value) -> Option<(usize, String)> {
    crate::model::set_by(action, payload, "SecurityCtrlr", "BasicAuthPassword")
}

/// Watches one connection of station `station_id`; `adopt` hears of a password set on it and
/// Accepted.
pub struct PasswordRotation<F> {
    station_id: String,
    adopt: F,
}

impl<F: Fn(&str) + Send + Sync> PasswordRotation<F> {
    pub fn new(station_id: &str, adopt: F) -> Self {
        PasswordRotation { station_id: station_id.to_string(), adopt }
    }
}

impl<F: Fn(&str) + Send + Sync> Watcher for PasswordRotation<F> {
    fn sending(&self, action: &str, payload: &Value) {
        if let Some((_, pw)) = password_set_by(action, payload) {
            super::basic::hide(&self.station_id, &pw);
        }
    }

    fn answered(&self, action: &str, request: &Value, result: &Value) {
        if let Some((i, pw)) = password_set_by(action, request) {
            if result["setVariableResult"][i]["attributeStatus"] == "Accepted" {
                (self.adopt)(&pw);
            }
        }
    }
}
