//! OCPP security profiles for both roles: 1 = HTTP Basic auth over ws://, 2 = Basic auth over
//! TLS (wss://), 3 = TLS with client certificates. 0 means none of them (plain ws://), what a
//! bench starts with. Secrets are registered for redaction as soon as they are loaded.
pub mod basic;
pub mod ocsp;
pub mod old_tls;
pub mod pki;
pub mod rotation;
pub mod tls;
pub mod v2g;

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// `[security]` in a DUT description.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecurityConfig {
    /// 0 (none), 1, 2 or 3.
    #[serde(default)]
    pub profile: u8,
    /// The station's Basic-auth password (profiles 1 and 2): the one the station DUT must
    /// send, or the one the harness sends to the CSMS DUT.
    pub password: Option<String>,
    /// The same, read from this environment variable when the run starts (a CI secret),
    /// so that no password is written into the description.
    pub password_env: Option<String>,
    /// A directory with the PEM files `pki init` writes (profiles 2 and 3); relative to the
    /// description file.
    pub pki: Option<PathBuf>,
}

/// Security settings resolved for a run.
#[derive(Debug, Clone, Default)]
pub struct Security {
    pub profile: u8,
    /// The configured password (see [`Security::password`] for the one in force).
    pub password: Option<String>,
    pub pki: Option<std::sync::Arc<pki::Pki>>,
    /// A password the harness station accepted from the CSMS DUT during the run (A01): a
    /// long-lived CSMS expects it from then on, so every later connection of the run (and a
    /// built-in CSMS started after it) uses it. Clones share it.
    adopted: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    /// Profiles a station DUT was raised to during the run (A05), per OCPP version (each has its
    /// station): irreversible, so every later case with that station is at that profile (a
    /// CSMS DUT stays at the run's). Clones share it.
    raised: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<crate::version::OcppVersion, u8>>>,
    /// Where a CSMS DUT moved the harness station one profile up (A05, TC_A_19_CSMS), per
    /// version: (profile, CSMS URL). The CSMS refuses it lower from then on, so the rest of
    /// the run connects there. Clones share it.
    moved: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<crate::version::OcppVersion, (u8, String)>>>,
}

impl Security {
    /// Check and load a `[security]` table (`base`: the directory paths are relative to).
    pub fn load(c: &SecurityConfig, base: &Path, station_id: &str) -> anyhow::Result<Security> {
        anyhow::ensure!(c.profile <= 3, "security profile {} does not exist (0-3)", c.profile);
        anyhow::ensure!(c.password.is_none() || c.password_env.is_none(), "give password or password-env, not both");
        let password = match &c.password_env {
            Some(var) => Some(std::env::var(var).map_err(|_| anyhow::anyhow!("password-env: the environment variable {var} is not set"))?),
            None => c.password.clone(),
        };
        if matches!(c.profile, 1 | 2) {
            anyhow::ensure!(password.is_some(), "security profile {} needs the station's password (password = ... or password-env = ...)", c.profile);
        }
        if c.profile >= 2 {
            anyhow::ensure!(c.pki.is_some(), "security profile {} needs a PKI directory (pki = ..., see `ocpp-harness pki init`)", c.profile);
        }
        if let Some(p) = &password {
            basic::hide(station_id, p);
        }
        let pki = match &c.pki {
            Some(dir) => Some(std::sync::Arc::new(pki::Pki::load(&base.join(dir))?)),
            None => None,
        };
        Ok(Security { profile: c.profile, password, pki, adopted: Default::default(), raised: Default::default(), moved: Default::default() })
    }

    /// Settings for the built-in DUTs at `profile`: a fresh PKI and a random password.
    pub fn generated(profile: u8, station_id: &str) -> anyhow::Result<Security> {
        anyhow::ensure!(profile <= 3, "security profile {profile} does not exist (0-3)");
        let password = format!("pw-{:016x}{:08x}", rand_u64(), std::process::id());
        basic::hide(station_id, &password);
        let pki = pki::Pki::generate(station_id, &["localhost".into(), "127.0.0.1".into()])?;
        Ok(Security { profile, password: Some(password), pki: Some(std::sync::Arc::new(pki)), adopted: Default::default(), raised: Default::default(), moved: Default::default() })
    }

    /// The same settings with the configured password in force: each run starts from it, and
    /// runs sharing these settings (a test binary's trials) do not see each other's changes.
    pub fn for_new_run(&self) -> Security {
        Security { adopted: Default::default(), raised: Default::default(), moved: Default::default(), ..self.clone() }
    }

    /// The settings in force for the station DUT of `version`: the run's, at the profile the
    /// station was raised to if it was.
    pub fn in_force(&self, version: crate::version::OcppVersion) -> Security {
        let profile = self.raised.lock().unwrap().get(&version).copied().unwrap_or(self.profile);
        Security { profile, ..self.clone() }
    }

    /// The same material at another profile.
    pub fn at_profile(&self, profile: u8) -> Security {
        Security { profile, ..self.clone() }
    }

    /// Where the CSMS DUT of `version` moved the harness station, if it did: (profile, URL).
    pub fn moved_to(&self, version: crate::version::OcppVersion) -> Option<(u8, String)> {
        self.moved.lock().unwrap().get(&version).cloned()
    }

    /// The harness station of `version` now connects there (None: back to the run's).
    pub fn move_station(&self, version: crate::version::OcppVersion, to: Option<(u8, String)>) {
        let mut moved = self.moved.lock().unwrap();
        match to {
            Some(t) => moved.insert(version, t),
            None => moved.remove(&version),
        };
    }

    /// The profile the station of `version` was raised to, if it was.
    pub fn raised_to(&self, version: crate::version::OcppVersion) -> Option<u8> {
        self.raised.lock().unwrap().get(&version).copied()
    }

    /// The station of `version` now connects at `profile` (None: back to the run's).
    pub fn raise(&self, version: crate::version::OcppVersion, profile: Option<u8>) {
        let mut raised = self.raised.lock().unwrap();
        match profile {
            Some(p) => raised.insert(version, p),
            None => raised.remove(&version),
        };
    }

    /// The station's password in force: the one it accepted last in this run, else the configured one.
    pub fn password(&self) -> Option<String> {
        self.adopted.lock().unwrap().clone().or_else(|| self.password.clone())
    }

    /// The harness station accepted `password` from the CSMS (SetVariables BasicAuthPassword).
    pub fn adopt_password(&self, station_id: &str, password: &str) {
        basic::hide(station_id, password);
        *self.adopted.lock().unwrap() = Some(password.to_string());
    }

    pub fn scheme(&self) -> &'static str {
        if self.profile >= 2 { "wss" } else { "ws" }
    }

    /// The PKI, for profiles that need one.
    pub fn pki(&self) -> Result<&pki::Pki, String> {
        self.pki.as_deref().ok_or_else(|| format!("security profile {} needs a PKI", self.profile))
    }
}

/// The Basic credentials a harness station presents (WIT `credentials`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    Configured,
    None,
    WrongPassword,
    WrongUsername,
}

impl Security {
    /// How the harness CSMS serves stations, presenting the `v` server certificate.
    pub fn serve(&self, v: pki::Variant) -> Result<ServeSecurity, String> {
        let tls = if self.profile >= 2 {
            let pki = self.pki()?;
            let id = pki.server(v, &pki.server_hosts())?.ok_or("a CSMS on TLS cannot serve without a certificate")?;
            let client_ca = (self.profile == 3).then_some(pki.ca_pem.as_str());
            Some(tls::server_config(&id, client_ca).map_err(|e| format!("{e:#}"))?)
        } else if v != pki::Variant::Configured {
            return Err(format!("a server certificate needs security profile 2 or 3; the run is at {}", self.profile));
        } else {
            None
        };
        Ok(ServeSecurity { profile: self.profile, tls, configured_certificate: v == pki::Variant::Configured, password: self.password.clone(), old_tls: None })
    }

    /// How the harness station presents itself as `station_id`.
    pub fn client(&self, station_id: &str, creds: Credentials, v: pki::Variant) -> Result<ClientSecurity, String> {
        let password = || self.password().ok_or_else(|| "no Basic-auth password is configured ([security] password)".to_string());
        let basic = match creds {
            Credentials::Configured if matches!(self.profile, 1 | 2) => Some((station_id.to_string(), password()?)),
            Credentials::Configured | Credentials::None => None,
            Credentials::WrongPassword => Some((station_id.to_string(), "not-the-password-0123456789".to_string())),
            Credentials::WrongUsername => Some((format!("NOT-{station_id}"), password()?)),
        };
        let tls = if self.profile >= 2 {
            let pki = self.pki()?;
            // At profile 2 the configured client certificate is none.
            let v = if self.profile == 2 && v == pki::Variant::Configured { pki::Variant::None } else { v };
            let id = pki.client(v, station_id)?;
            Some(tls::client_config(&pki.ca_pem, id.as_ref(), false).map_err(|e| format!("{e:#}"))?)
        } else if v != pki::Variant::Configured {
            return Err(format!("a client certificate needs security profile 2 or 3; the run is at {}", self.profile));
        } else {
            None
        };
        Ok(ClientSecurity { profile: self.profile, basic, tls })
    }
}

/// Not for keys: only to make generated test passwords differ between runs.
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}

/// How the harness CSMS secures the connections of the running case.
#[derive(Clone, Default)]
pub struct ServeSecurity {
    /// 0-3; 1 and 2 expect Basic auth, 3 a client certificate naming the station.
    pub profile: u8,
    /// The TLS server side (profiles 2 and 3).
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// Whether the certificate served is the configured one: a station refusing it then
    /// breaks the protocol, while refusing a deliberately bad one is what a case expects.
    pub configured_certificate: bool,
    /// The password stations must send (profiles 1 and 2).
    pub password: Option<String>,
    /// Instead of TLS, answer a ServerHello choosing this old version ("1.0", "1.1") and see
    /// the station end the handshake (TC_A_06_CS).
    pub old_tls: Option<String>,
}

/// How the harness station presents itself to a CSMS.
#[derive(Clone, Default)]
pub struct ClientSecurity {
    pub profile: u8,
    /// Basic-auth user and password.
    pub basic: Option<(String, String)>,
    /// TLS settings, for wss:// URLs.
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}
