//! Secrets never reach a report: every text the trace records and every verdict reason passes
//! through [`scrub`], which masks registered secrets (passwords, their Basic-auth encodings,
//! as written or JSON-escaped) and the values of password variables and fields in OCPP
//! payloads, whoever put them there — in place, so the rest of a frame is the wire's bytes.
use std::sync::RwLock;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Mask `secret` in everything recorded from now on (too short a string would mask noise).
pub fn register(secret: &str) {
    if secret.len() < 4 {
        return;
    }
    let mut s = SECRETS.write().unwrap();
    if !s.iter().any(|x| x == secret) {
        s.push(secret.to_string());
        // Longest first, so a secret containing another is masked whole.
        s.sort_by_key(|x| std::cmp::Reverse(x.len()));
    }
}

/// Variables (2.x device model, 1.6 configuration keys) and fields whose values are secrets:
/// these, and any name ending in "password" (BasicAuthPassword, a vendor's FtpPassword, the
/// network profile's apnPassword).
const SECRET_NAMES: &[&str] = &["AuthorizationKey", "privateKey"];

fn secret_name(name: &str) -> bool {
    SECRET_NAMES.contains(&name) || name.to_ascii_lowercase().ends_with("password")
}

/// `text` with every registered secret and every password variable's value masked. Only the
/// secret's characters change: the rest stays byte for byte what was on the wire.
pub fn scrub(text: &str) -> String {
    let mut out = text.to_string();
    for s in SECRETS.read().unwrap().iter() {
        // As written, and as a JSON string spells it (a quote or backslash escaped).
        let escaped = serde_json::to_string(s).map(|q| q[1..q.len() - 1].to_string()).unwrap_or_default();
        for form in [s.as_str(), escaped.as_str()] {
            if !form.is_empty() && out.contains(form) {
                out = out.replace(form, MASK);
            }
        }
    }
    let lower = out.to_ascii_lowercase();
    if lower.contains("password") || SECRET_NAMES.iter().any(|n| out.contains(n)) {
        out = mask_password_variables(&out);
    }
    out
}

/// In OCPP-J frames: the values of password variables (SetVariables/GetVariables entries,
/// 1.6 configuration keys) and of password fields, replaced where they stand in the text.
fn mask_password_variables(text: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(text) else {
        return text.to_string();
    };
    let mut found = vec![];
    for_each_password(&mut v, &mut |x| {
        if let Some(literal) = x.as_str().and_then(|s| serde_json::to_string(s).ok()) {
            found.push(literal);
        }
    });
    let mut out = text.to_string();
    let masked = serde_json::to_string(MASK).expect("a plain string");
    for literal in found {
        if out.contains(&literal) {
            out = out.replace(&literal, &masked);
        } else {
            // Spelt another way (\u escapes): masked in a re-serialised frame rather than kept.
            for_each_password(&mut v, &mut |x| *x = serde_json::Value::String(MASK.into()));
            return v.to_string();
        }
    }
    out
}

/// Register every password variable's value in `payload` as a secret: for text that quotes a
/// payload (a bench step, a driver's command line) where it is no longer a frame.
pub fn register_passwords_in(payload: &serde_json::Value) {
    let mut v = payload.clone();
    for_each_password(&mut v, &mut |x| {
        if let Some(s) = x.as_str() {
            register(s);
        }
    });
}

/// Call `f` on the value of every password variable and password field in `v`.
fn for_each_password(v: &mut serde_json::Value, f: &mut impl FnMut(&mut serde_json::Value)) {
    match v {
        serde_json::Value::Object(o) => {
            let var = o.get("variable").and_then(|x| x.get("name")).and_then(|x| x.as_str());
            let key = o.get("key").and_then(|x| x.as_str());
            if var.or(key).is_some_and(secret_name) {
                for field in ["attributeValue", "value"] {
                    if let Some(x) = o.get_mut(field) {
                        f(x);
                    }
                }
                // NotifyReport: the values are in the variable's attributes.
                for a in o.get_mut("variableAttribute").and_then(|a| a.as_array_mut()).into_iter().flatten() {
                    if let Some(x) = a.get_mut("value") {
                        f(x);
                    }
                }
            }
            for (k, x) in o.iter_mut() {
                if secret_name(k) && x.is_string() {
                    f(x);
                } else {
                    for_each_password(x, f);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| for_each_password(x, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_and_password_variables_are_masked() {
        crate::security::basic::hide("CS-redact", "s3cret-passw0rd-for-tests");
        let header = crate::security::basic::encode("CS-redact", "s3cret-passw0rd-for-tests");
        let line = format!("GET /ocpp/CS-redact Authorization: {header} password s3cret-passw0rd-for-tests");
        let got = scrub(&line);
        assert!(!got.contains("s3cret") && !got.contains(&header), "{got}");
        let frame = r#"[2,"1","SetVariables",{"setVariableData":[{"attributeValue":"NewPassw0rd1234567","component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}},{"attributeValue":"30","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}]"#;
        let got = scrub(frame);
        assert!(!got.contains("NewPassw0rd") && got.contains("\"30\""), "{got}");
        let v16 = r#"[2,"2","ChangeConfiguration",{"key":"AuthorizationKey","value":"0102030405060708090a"}]"#;
        assert!(!scrub(v16).contains("0102030405"));
        assert_eq!(scrub("nothing to hide"), "nothing to hide");
        // A payload quoted in prose (a bench step) is no frame: registering its passwords masks them.
        let quoted = format!("make the CSMS send SetVariables {}", &frame[22..frame.len() - 1]);
        assert!(scrub(&quoted).contains("NewPassw0rd"), "the quoted payload is not parsed: {quoted}");
        register_passwords_in(&serde_json::from_str(&frame[22..frame.len() - 1]).unwrap());
        assert!(!scrub(&quoted).contains("NewPassw0rd"), "{}", scrub(&quoted));
    }

    #[test]
    fn a_masked_frame_keeps_every_other_byte() {
        // Key order and spacing a re-serialisation would change.
        let frame = r#"[2, "7", "SetVariables", {"setVariableData": [{"variable": {"name": "BasicAuthPassword"}, "component": {"name": "SecurityCtrlr"}, "attributeValue": "Other-Passw0rd-1234"}]}]"#;
        assert_eq!(scrub(frame), frame.replace("Other-Passw0rd-1234", MASK));
    }

    #[test]
    fn password_fields_and_any_password_variable_are_masked() {
        let profile = r#"[2,"8","SetNetworkProfile",{"configurationSlot":2,"connectionData":{"apn":{"apn":"lab","apnPassword":"apn-secret-value","apnAuthentication":"AUTO"}}}]"#;
        assert_eq!(scrub(profile), profile.replace("apn-secret-value", MASK));
        let report = r#"[2,"11","NotifyReport",{"requestId":1,"generatedAt":"2026-12-08T00:00:00Z","seqNo":0,"reportData":[{"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"},"variableAttribute":[{"value":"report-secret-value","mutability":"WriteOnly"}]}]}]"#;
        assert_eq!(scrub(report), report.replace("report-secret-value", MASK));
        let vendor = r#"[3,"9",{"getVariableResult":[{"attributeStatus":"Accepted","attributeValue":"ftp-secret-value","component":{"name":"Vendor"},"variable":{"name":"FtpPassword"}}]}]"#;
        assert!(!scrub(vendor).contains("ftp-secret-value"), "{}", scrub(vendor));
    }

    #[test]
    fn a_registered_secret_is_masked_where_json_escapes_it() {
        register(r#"quote"and\back"#);
        let frame = r#"[2,"10","DataTransfer",{"vendorId":"x","data":"quote\"and\\back"}]"#;
        assert!(serde_json::from_str::<serde_json::Value>(frame).is_ok(), "the frame is JSON");
        assert_eq!(scrub(frame), frame.replace(r#"quote\"and\\back"#, MASK));
    }
}
