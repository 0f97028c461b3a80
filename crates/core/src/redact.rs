//! Secrets never reach a report: every text the trace records and every verdict reason passes
//! through [`scrub`], which masks registered secrets (passwords, their Basic-auth encodings)
//! and the values of password variables in OCPP payloads, whoever put them there.
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

/// Variables whose values are passwords (2.x device model, 1.6 configuration key).
const PASSWORD_VARIABLES: &[&str] = &["BasicAuthPassword", "AuthorizationKey"];

/// `text` with every registered secret and every password variable's value masked.
pub fn scrub(text: &str) -> String {
    let mut out = text.to_string();
    for s in SECRETS.read().unwrap().iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    if PASSWORD_VARIABLES.iter().any(|v| out.contains(v)) {
        out = mask_password_variables(&out);
    }
    out
}

/// In OCPP-J frames: SetVariables/GetVariables entries naming a password variable, and 1.6
/// ChangeConfiguration / GetConfiguration keys, get their value masked.
fn mask_password_variables(text: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(text) else {
        return text.to_string();
    };
    for_each_password(&mut v, &mut |x| *x = serde_json::Value::String(MASK.into()));
    v.to_string()
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

/// Call `f` on the value of every password variable in `v`.
fn for_each_password(v: &mut serde_json::Value, f: &mut impl FnMut(&mut serde_json::Value)) {
    match v {
        serde_json::Value::Object(o) => {
            let var = o.get("variable").and_then(|x| x.get("name")).and_then(|x| x.as_str());
            let key = o.get("key").and_then(|x| x.as_str());
            if var.or(key).is_some_and(|n| PASSWORD_VARIABLES.contains(&n)) {
                for field in ["attributeValue", "value"] {
                    if let Some(x) = o.get_mut(field) {
                        f(x);
                    }
                }
            }
            o.values_mut().for_each(|x| for_each_password(x, f));
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
}
