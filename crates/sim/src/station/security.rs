//! How the reference station authenticates itself and checks the CSMS (security profiles
//! 1-3), one profile up as well (A05), and with CSMS roots installed since (M05).
use std::sync::Arc;

use super::super::{Fault, Faults};

/// How the reference station authenticates itself and checks the CSMS.
#[derive(Clone, Default)]
pub struct StationSecurity {
    /// The security profile it is set up for (SecurityCtrlr.SecurityProfile).
    pub profile: u8,
    pub basic: Option<(String, String)>,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// What `tls` was made of, to make it again with roots the CSMS installed (M05).
    trust: Option<Trust>,
    /// The set-up one profile up, which a connection profile may ask for (A05): the station
    /// has the certificates for it.
    pub(super) raised: Option<Box<StationSecurity>>,
}

#[derive(Clone)]
struct Trust {
    ca_pem: String,
    client: Option<ocpp_core::security::pki::Identity>,
    trust_any: bool,
}

impl std::fmt::Debug for StationSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StationSecurity {{ basic: {}, tls: {} }}", self.basic.is_some(), self.tls.is_some())
    }
}

impl StationSecurity {
    /// The reference station as `station_id` at the run's profile (faults weaken it).
    pub fn for_run(security: &ocpp_core::security::Security, station_id: &str, faults: &Faults) -> anyhow::Result<StationSecurity> {
        let basic = match &security.password {
            Some(p) if matches!(security.profile, 1 | 2) && !faults.has(&Fault::NoBasicAuth) => Some((station_id.to_string(), p.clone())),
            _ => None,
        };
        let trust = security.pki.as_deref().filter(|_| security.profile >= 2 && !faults.has(&Fault::NoTls)).map(|pki| Trust {
            ca_pem: pki.ca_pem.clone(),
            client: pki.station.clone().filter(|_| security.profile == 3 && !faults.has(&Fault::NoClientCertificate)),
            trust_any: faults.has(&Fault::TrustAnyServer),
        });
        let tls = match &trust {
            Some(t) => Some(ocpp_core::security::tls::client_config(&t.ca_pem, t.client.as_ref(), t.trust_any)?),
            None => None,
        };
        let raised = match security.profile {
            1 | 2 if security.pki.is_some() && !faults.has(&Fault::NoTls) => {
                Some(Box::new(StationSecurity::for_run(&security.at_profile(security.profile + 1), station_id, faults)?))
            }
            _ => None,
        };
        Ok(StationSecurity { profile: security.profile, basic, tls, trust, raised })
    }

    /// The profile this station can be raised to (A05.FR.02/03), if any.
    pub fn raisable_to(&self) -> Option<u8> {
        self.raised.as_ref().map(|r| r.profile)
    }

    /// The TLS set-up that also trusts the CSMS roots installed since (`roots`, PEM): a
    /// station migrating to a new CSMS checks its certificate with the new root (M05.FR.13).
    pub(super) fn tls_trusting(&self, roots: &[String]) -> Option<Arc<rustls::ClientConfig>> {
        match &self.trust {
            Some(t) if !roots.is_empty() => {
                let pem = format!("{}\n{}", t.ca_pem, roots.join("\n"));
                ocpp_core::security::tls::client_config(&pem, t.client.as_ref(), t.trust_any).ok().or_else(|| self.tls.clone())
            }
            _ => self.tls.clone(),
        }
    }
}

