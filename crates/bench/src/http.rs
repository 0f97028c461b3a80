//! The `http` driver: one HTTP request per bench action, for lab devices and DUT simulators with
//! a REST API (the reference station's `sim station --control`, a CSMS's own API for
//! `csms-trigger`, an EV emulator's web interface). The URL, headers and body are templates
//! filled in from the action; `${NAME}` takes a secret from the environment, so no token is
//! written into the bench description. A CSMS API with a route per OCPP action takes a
//! `routes` table (method, URL and body per action), and one that answers 200 when it could
//! not send the CALL takes a success check on the body (`success-pointer`).
use std::{collections::BTreeMap, time::Duration};

use serde::Deserialize;
use serde_json::Value;

/// One request template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HttpSpec {
    #[serde(default = "default_method")]
    pub method: String,
    /// `{placeholder}`s are filled in percent-encoded. May be left out when `routes` names
    /// every action the bench is asked for.
    #[serde(default)]
    pub url: String,
    /// Per OCPP action (`csms-trigger`): its own method, URL and body, each replacing the
    /// capability's (`[capabilities.csms-trigger.routes.Reset]`).
    #[serde(default)]
    pub routes: BTreeMap<String, Route>,
    /// Where in a JSON answer the server says whether it did what was asked
    /// (`/0/success`); an answer without `success-value` there is a failure, with the answer
    /// as the reason, whatever its status.
    pub success_pointer: Option<String>,
    /// The value at `success-pointer` that means success (default `true`).
    pub success_value: Option<Value>,
    /// For `bench check`: the method (`OPTIONS`, `HEAD`, `GET`) by which each route is asked
    /// whether it exists without triggering anything; 404 means it does not.
    pub route_probe: Option<String>,
    /// JSON body template; `{placeholder}`s are filled in as JSON string content (quote them
    /// in the template where a string is wanted), `{payload}` as JSON.
    pub body: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The status that means success; any 2xx when absent.
    pub expect_status: Option<u16>,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Readings (`meter`): JSON pointer to the number in the response, and its unit (by default
    /// the quantity's: Wh, W, V, A). `digital-input` and a relay's read-back: JSON pointer to
    /// its state (true/false, a number, "on"/"off").
    pub value_pointer: Option<String>,
    /// `relay`: the URL a GET of which reads a relay back (`{name}` filled in); without it a
    /// relay can be switched but not read back.
    pub read_url: Option<String>,
    pub unit: Option<String>,
    /// For `bench check`: a URL whose GET answers 2xx when the device is up (a status page).
    pub probe_url: Option<String>,
}

/// One action's request; what is left out is the capability's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Route {
    pub method: Option<String>,
    pub url: Option<String>,
    pub body: Option<String>,
}

fn default_method() -> String {
    "POST".into()
}

fn default_timeout() -> u64 {
    10_000
}

/// The names of the `${NAME}` environment variables a template uses.
fn env_names(text: &str) -> Vec<String> {
    text.split("${").skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string())).collect()
}

impl HttpSpec {
    /// Check what can be checked before a run: method, URL scheme, body template, secrets.
    pub fn check(&self) -> Result<(), String> {
        if self.url.is_empty() && self.routes.is_empty() {
            return Err("an http driver needs url, or routes per action".into());
        }
        let methods = std::iter::once(&self.method).chain(self.routes.values().filter_map(|r| r.method.as_ref())).chain(self.route_probe.iter());
        for m in methods {
            reqwest::Method::from_bytes(m.as_bytes()).map_err(|_| format!("method {m:?} is not an HTTP method"))?;
        }
        let urls = std::iter::once(&self.url).filter(|u| !u.is_empty()).chain(self.read_url.iter()).chain(self.routes.values().filter_map(|r| r.url.as_ref()));
        for url in urls {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("url {url:?} is not http:// or https://"));
            }
        }
        let texts = std::iter::once(&self.url).chain(self.body.iter()).chain(self.headers.values());
        for name in texts.flat_map(|t| env_names(t)) {
            if std::env::var_os(&name).is_none() {
                return Err(format!("the environment variable {name} (used as ${{{name}}}) is not set"));
            }
        }
        Ok(())
    }
}

/// Fill `${NAME}` from the environment and `{key}` from `values` (each through `encode`).
fn fill(template: &str, values: &[(&str, String)], encode: impl Fn(&str, &str) -> String) -> Result<String, String> {
    let mut out = template.to_string();
    for name in env_names(template) {
        let v = std::env::var(&name).map_err(|_| format!("the environment variable {name} is not set"))?;
        out = out.replace(&format!("${{{name}}}"), &v);
    }
    Ok(values.iter().fold(out, |acc, (k, v)| acc.replace(&format!("{{{k}}}"), &encode(k, v))))
}

fn percent(v: &str) -> String {
    v.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn json_content(key: &str, v: &str) -> String {
    if key == "payload" {
        return v.to_string();
    }
    let quoted = serde_json::to_string(v).unwrap_or_default();
    quoted[1..quoted.len() - 1].to_string()
}

fn client() -> &'static reqwest::Client {
    static C: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        // reqwest is built without a crypto provider of its own: ring, as everywhere else.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder().build().expect("an HTTP client")
    })
}

impl HttpSpec {
    /// The request for the action among `values` (`{action}`): its route's, else the
    /// capability's own.
    fn for_action(&self, values: &[(&str, String)]) -> Result<HttpSpec, String> {
        let action = values.iter().find(|(k, _)| *k == "action").map(|(_, v)| v.as_str());
        let Some(route) = action.and_then(|a| self.routes.get(a)) else {
            if self.url.is_empty() {
                return Err(format!("no route for {} in routes, and no url to fall back on", action.unwrap_or("this action")));
            }
            return Ok(self.clone());
        };
        Ok(HttpSpec {
            method: route.method.clone().unwrap_or_else(|| self.method.clone()),
            url: route.url.clone().unwrap_or_else(|| self.url.clone()),
            body: route.body.clone().or_else(|| self.body.clone()),
            routes: BTreeMap::new(),
            ..self.clone()
        })
    }

    /// Whether the answer says the server did what was asked (`success-pointer`).
    fn succeeded(&self, text: &str) -> Result<(), String> {
        let Some(pointer) = &self.success_pointer else { return Ok(()) };
        let want = self.success_value.clone().unwrap_or(Value::Bool(true));
        let found = serde_json::from_str::<Value>(text).ok().and_then(|v| v.pointer(pointer).cloned());
        match found {
            Some(v) if v == want => Ok(()),
            Some(v) => Err(format!("the server says it did not: {pointer} is {v}, not {want}: {}", text.chars().take(300).collect::<String>())),
            None => Err(format!("the answer has nothing at {pointer} to say it did it: {}", text.chars().take(300).collect::<String>())),
        }
    }
}

/// The placeholders of a `csms-trigger` derived from its OCPP action: `{action-camel}`
/// (getBaseReport) and `{action-kebab}` (get-base-report), as CSMS APIs name routes.
pub fn action_forms(action: &str) -> [(&'static str, String); 2] {
    let mut camel = action.to_string();
    if let Some(first) = camel.get(0..1) {
        camel.replace_range(0..1, &first.to_ascii_lowercase());
    }
    let mut kebab = String::new();
    for (i, c) in action.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            kebab.push('-');
        }
        kebab.push(c.to_ascii_lowercase());
    }
    [("action-camel", camel), ("action-kebab", kebab)]
}

/// `bench check` for `routes`: each route asked with `route-probe` whether it exists (any
/// answer but 404), nothing triggered. None when no route probe is declared.
pub async fn probe_routes(spec: &HttpSpec, values: &[(&str, String)]) -> Option<Result<String, String>> {
    let method = spec.route_probe.clone()?;
    let Ok(m) = reqwest::Method::from_bytes(method.as_bytes()) else { return Some(Err(format!("route-probe {method:?} is not an HTTP method"))) };
    let mut seen = vec![];
    for action in spec.routes.keys() {
        let mut v: Vec<(&str, String)> = values.to_vec();
        v.push(("action", action.clone()));
        v.extend(action_forms(action));
        let url = match spec.for_action(&v).and_then(|route| fill(&route.url, &v, |_, x| percent(x))) {
            Ok(u) => u,
            Err(e) => return Some(Err(e)),
        };
        let answer = client().request(m.clone(), &url).timeout(Duration::from_millis(spec.timeout_ms)).send().await;
        match answer {
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => return Some(Err(format!("the route for {action} does not exist: {method} {url} answered 404"))),
            Ok(_) => seen.push(action.clone()),
            Err(e) => return Some(Err(format!("{method} {url}: {e}"))),
        }
    }
    Some(Ok(format!("routes present: {}", seen.join(", "))))
}

/// Send the request for an action with these placeholder values; the response body on success.
pub async fn send(spec: &HttpSpec, values: &[(&str, String)]) -> Result<String, String> {
    let spec = &spec.for_action(values)?;
    let url = fill(&spec.url, values, |_, v| percent(v))?;
    let method = reqwest::Method::from_bytes(spec.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut req = client().request(method.clone(), &url).timeout(Duration::from_millis(spec.timeout_ms));
    for (k, v) in &spec.headers {
        req = req.header(k, fill(v, values, |_, v| v.to_string())?);
    }
    if let Some(body) = &spec.body {
        let body = fill(body, values, json_content)?;
        serde_json::from_str::<Value>(&body).map_err(|e| format!("the body for {method} {url} is not JSON once filled in ({e}): {body}"))?;
        req = req.header("content-type", "application/json").body(body);
    }
    let resp = req.send().await.map_err(|e| {
        let why = if e.is_timeout() { format!("no answer within {} ms", spec.timeout_ms) } else { e.to_string() };
        format!("{method} {url}: {why}")
    })?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let ok = match spec.expect_status {
        Some(s) => status.as_u16() == s,
        None => status.is_success(),
    };
    if ok {
        spec.succeeded(&text).map_err(|e| format!("{method} {url} answered {status}, but {e}"))?;
        Ok(text)
    } else {
        let want = spec.expect_status.map(|s| s.to_string()).unwrap_or_else(|| "2xx".into());
        Err(format!("{method} {url} answered {status} (expected {want}): {}", text.chars().take(200).collect::<String>()))
    }
}

/// `bench check`'s probe: a GET of `probe-url` with the spec's headers and time-out; None when
/// the spec declares none.
pub async fn probe(spec: &HttpSpec) -> Option<Result<String, String>> {
    let url = spec.probe_url.clone()?;
    let get = HttpSpec { method: "GET".into(), url: url.clone(), body: None, expect_status: None, ..spec.clone() };
    Some(send(&get, &[]).await.map(|_| format!("GET {url} answered")))
}

/// A reading: the number at `value-pointer` in the response.
pub async fn read(spec: &HttpSpec, quantity: &str, values: &[(&str, String)]) -> Result<(f64, String), String> {
    let text = send(spec, values).await?;
    let pointer = spec.value_pointer.as_deref().ok_or("a meter over http needs value-pointer")?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("the answer is not JSON ({e}): {text}"))?;
    let value = v.pointer(pointer).and_then(Value::as_f64).ok_or_else(|| format!("no number at {pointer} in {text}"))?;
    let unit = spec.unit.clone().unwrap_or_else(|| unit_of(quantity).to_string());
    Ok((value, unit))
}

/// A relay's or input's state: what `value-pointer` finds in the answer to the spec's request
/// (`read` = false) or to a GET of `read-url` (a relay read back).
pub async fn read_state(spec: &HttpSpec, values: &[(&str, String)], read: bool) -> Result<bool, String> {
    let text = if read {
        let url = spec.read_url.clone().ok_or("a relay over http needs read-url to be read back")?;
        send(&HttpSpec { method: "GET".into(), url, body: None, expect_status: None, ..spec.clone() }, values).await?
    } else {
        send(spec, values).await?
    };
    let pointer = spec.value_pointer.as_deref().ok_or("a state over http needs value-pointer")?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("the answer is not JSON ({e}): {text}"))?;
    let state = match v.pointer(pointer) {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Number(n)) => n.as_f64().map(|n| n != 0.0),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "closed" => Some(true),
            "off" | "false" | "0" | "open" => Some(false),
            _ => None,
        },
        _ => None,
    };
    state.ok_or_else(|| format!("no on/off state at {pointer} in {text}"))
}

/// The unit a quantity of the `meter` capability is read in.
fn unit_of(quantity: &str) -> &'static str {
    match quantity {
        "energy-import" | "energy-export" => "Wh",
        "power" => "W",
        q if q.starts_with("voltage") => "V",
        q if q.starts_with("current") => "A",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_in_values_and_secrets() {
        // SAFETY: set before any thread of this test reads the environment.
        unsafe { std::env::set_var("OCPP_HARNESS_TEST_TOKEN", "s3cret") };
        let v = [("evse", "2".to_string()), ("token", "A\"B".to_string()), ("payload", r#"{"type":"Hard"}"#.to_string())];
        let body = fill(r#"{"evse": {evse}, "token": "{token}", "p": {payload}}"#, &v, json_content).unwrap();
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!((parsed["evse"].as_i64(), parsed["token"].as_str(), parsed["p"]["type"].as_str()), (Some(2), Some("A\"B"), Some("Hard")));
        assert_eq!(fill("http://x/{token}", &v, |_, v| percent(v)).unwrap(), "http://x/A%22B");
        assert_eq!(fill("Bearer ${OCPP_HARNESS_TEST_TOKEN}", &v, |_, v| v.to_string()).unwrap(), "Bearer s3cret");
        let spec = |url: &str, header: &str| HttpSpec {
            method: "POST".into(),
            url: url.into(),
            body: None,
            headers: [("Authorization".to_string(), header.to_string())].into(),
            expect_status: None,
            timeout_ms: 100,
            value_pointer: None,
            unit: None,
            probe_url: None,
            read_url: None,
            routes: BTreeMap::new(),
            success_pointer: None,
            success_value: None,
            route_probe: None,
        };
        assert!(spec("http://127.0.0.1/x", "${OCPP_HARNESS_TEST_TOKEN}").check().is_ok());
        assert!(spec("http://127.0.0.1/x", "${OCPP_HARNESS_NO_SUCH_VAR}").check().unwrap_err().contains("OCPP_HARNESS_NO_SUCH_VAR"));
        assert!(spec("ftp://127.0.0.1/x", "").check().unwrap_err().contains("ftp"));
    }

    #[tokio::test]
    async fn failures_say_what_the_server_answered() {
        use axum::{Router, http::StatusCode, routing::post};
        let app = Router::new()
            .route("/ok", post(|| async { "{\"value\": 12.5}" }))
            .route("/broken", post(|| async { (StatusCode::SERVICE_UNAVAILABLE, "relay board offline") }))
            .route("/slow", post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }));
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(tcp, app).await });
        let spec = |path: &str| HttpSpec {
            method: "POST".into(),
            url: format!("http://{addr}{path}"),
            body: Some(r#"{"evse": {evse}}"#.into()),
            headers: BTreeMap::new(),
            expect_status: None,
            timeout_ms: 300,
            value_pointer: Some("/value".into()),
            unit: None,
            probe_url: None,
            read_url: None,
            routes: BTreeMap::new(),
            success_pointer: None,
            success_value: None,
            route_probe: None,
        };
        let v = [("evse", "1".to_string())];
        assert_eq!(read(&spec("/ok"), "energy-import", &v).await.unwrap(), (12.5, "Wh".to_string()));
        let e = send(&spec("/broken"), &v).await.unwrap_err();
        assert!(e.contains("503") && e.contains("relay board offline"), "{e}");
        assert!(send(&spec("/slow"), &v).await.unwrap_err().contains("no answer within 300 ms"));
        let mut bad_body = spec("/ok");
        bad_body.body = Some("{\"evse\": {evse".into());
        assert!(send(&bad_body, &v).await.unwrap_err().contains("not JSON"));
        let refused = HttpSpec { url: "http://127.0.0.1:9/x".into(), ..spec("/ok") };
        assert!(send(&refused, &v).await.is_err());
    }
}
