//! HTTP Basic authentication on the WebSocket upgrade (security profiles 1 and 2): the station
//! id is the user name, the password is the station's BasicAuthPassword.
use base64::{Engine, engine::general_purpose::STANDARD};

/// The `Authorization` header value.
pub fn encode(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// User and password from an `Authorization` header value, if it is well-formed Basic.
pub fn decode(header: &str) -> Option<(String, String)> {
    let b64 = header.strip_prefix("Basic ").or_else(|| header.strip_prefix("basic "))?;
    let text = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Constant-time comparison, so a lab's reference CSMS does not leak password prefixes.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = encode("CS001", "pa:ss");
        assert_eq!(decode(&h), Some(("CS001".into(), "pa:ss".into())));
        assert_eq!(decode("Bearer x"), None);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}

/// Keep a station's Basic-auth credentials out of every report: the password and the header
/// value it makes.
pub fn hide(user: &str, password: &str) {
    crate::redact::register(password);
    crate::redact::register(&encode(user, password));
}
