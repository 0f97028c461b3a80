//! A test PKI (rcgen): a CA, the CSMS's server identity and a station's client identity, plus
//! the deliberately bad certificates negative cases present — from an untrusted CA, expired,
//! or naming the wrong host or station. `ocpp-harness pki init DIR` writes one for a lab; the
//! built-in DUTs get a fresh one per run.
use std::path::Path;

use anyhow::Context;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use time::{Duration, OffsetDateTime};

/// A certificate and its private key, PEM.
#[derive(Clone)]
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity { cert, key: *** }")
    }
}

/// Which certificate to present: the configured one, none, or a deliberately bad one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Configured,
    None,
    /// Signed by a CA the peer has never seen.
    Untrusted,
    /// Signed by the trusted CA, but no longer valid.
    Expired,
    /// Signed by the trusted CA for another host (server) or another station (client).
    WrongIdentity,
    /// Server: signed by the PKI's second CSMS root, one a station trusts only once it was
    /// installed (migrating to a new CSMS, TC_B_50_CS).
    SecondRoot,
}

/// Why a CSR got no certificate.
#[derive(Debug)]
pub enum CsrError {
    /// The lab's PKI has no CA key to sign with.
    NoCaKey(String),
    /// The CSR is not a valid PKCS#10 request.
    BadCsr(String),
}

/// File names in a PKI directory.
pub const FILES: &[&str] = &["ca.pem", "ca.key", "csms.pem", "csms.key", "station.pem", "station.key", "ca2.pem", "csms2.pem", "csms2.key"];

#[derive(Clone, Debug)]
pub struct Pki {
    /// The CA the DUT's certificates chain to, and that issued ours.
    pub ca_pem: String,
    /// Lets the harness make bad certificates the trusted CA signed (expired, wrong identity).
    pub ca_key_pem: Option<String>,
    /// Our server identity when the harness plays the CSMS.
    pub csms: Option<Identity>,
    /// Our client identity when the harness plays a station (security profile 3).
    pub station: Option<Identity>,
    /// A second CSMS root (`ca2.pem`) and a server identity it signed (`csms2.*`): a new CSMS
    /// a station migrates to after the root was installed (TC_B_50_CS). Optional.
    pub second: Option<(String, Identity)>,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, name);
    p.distinguished_name.push(DnType::OrganizationName, "ocpp-harness test PKI");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    p.not_after = OffsetDateTime::now_utc() + Duration::days(3650);
    p
}

/// (not before, not after): valid for a year, or expired yesterday.
fn validity(expired: bool) -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    if expired { (now - Duration::days(30), now - Duration::days(1)) } else { (now - Duration::days(1), now + Duration::days(365)) }
}

fn leaf(issuer: &Issuer<'_, KeyPair>, cn: &str, hosts: &[String], server: bool, expired: bool) -> anyhow::Result<Identity> {
    let mut p = CertificateParams::new(hosts.to_vec())?;
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name.push(DnType::OrganizationName, "ocpp-harness test PKI");
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyAgreement];
    p.extended_key_usages = vec![if server { ExtendedKeyUsagePurpose::ServerAuth } else { ExtendedKeyUsagePurpose::ClientAuth }];
    (p.not_before, p.not_after) = validity(expired);
    let key = KeyPair::generate()?;
    let cert = p.signed_by(&key, issuer)?;
    Ok(Identity { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}

impl Pki {
    /// A fresh CA with a server identity for `hosts` and a client identity for `station_id`.
    pub fn generate(station_id: &str, hosts: &[String]) -> anyhow::Result<Pki> {
        let ca_key = KeyPair::generate()?;
        let params = ca_params("ocpp-harness test CA");
        let ca_cert = params.self_signed(&ca_key)?;
        let ca_key_pem = ca_key.serialize_pem();
        let issuer = Issuer::new(params, ca_key);
        let csms = leaf(&issuer, hosts.first().map_or("localhost", String::as_str), hosts, true, false)?;
        let station = leaf(&issuer, station_id, &[], false, false)?;
        let key2 = KeyPair::generate()?;
        let params2 = ca_params("ocpp-harness test CA 2 (a new CSMS)");
        let ca2 = params2.self_signed(&key2)?;
        let csms2 = leaf(&Issuer::new(params2, key2), hosts.first().map_or("localhost", String::as_str), hosts, true, false)?;
        Ok(Pki { ca_pem: ca_cert.pem(), ca_key_pem: Some(ca_key_pem), csms: Some(csms), station: Some(station), second: Some((ca2.pem(), csms2)) })
    }

    /// Write the PKI as `FILES` into `dir` (keys readable by the owner only).
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut files: Vec<(&str, &str, bool)> = vec![("ca.pem", &self.ca_pem, false)];
        if let Some(k) = &self.ca_key_pem {
            files.push(("ca.key", k, true));
        }
        if let Some((ca2, csms2)) = &self.second {
            files.extend([("ca2.pem", ca2.as_str(), false), ("csms2.pem", csms2.cert_pem.as_str(), false), ("csms2.key", csms2.key_pem.as_str(), true)]);
        }
        for (name, id) in [("csms", &self.csms), ("station", &self.station)] {
            if let Some(id) = id {
                files.push((if name == "csms" { "csms.pem" } else { "station.pem" }, &id.cert_pem, false));
                files.push((if name == "csms" { "csms.key" } else { "station.key" }, &id.key_pem, true));
            }
        }
        for (name, text, secret) in files {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            #[cfg(unix)]
            if secret {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(())
    }

    /// Load a PKI directory: `ca.pem` is required, the rest is optional and used when present.
    pub fn load(dir: &Path) -> anyhow::Result<Pki> {
        let read = |name: &str| -> anyhow::Result<Option<String>> {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(t) => Ok(Some(t)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(anyhow::anyhow!("reading {}: {e}", path.display())),
            }
        };
        let pair = |cert: &str, key: &str| -> anyhow::Result<Option<Identity>> {
            match (read(cert)?, read(key)?) {
                (Some(cert_pem), Some(key_pem)) => Ok(Some(Identity { cert_pem, key_pem })),
                (None, None) => Ok(None),
                _ => anyhow::bail!("{} has one of {cert} and {key} without the other", dir.display()),
            }
        };
        let ca_pem = read("ca.pem")?.with_context(|| format!("{} has no ca.pem (the CA the DUT's certificates chain to)", dir.display()))?;
        let second = match (read("ca2.pem")?, pair("csms2.pem", "csms2.key")?) {
            (Some(ca2), Some(id)) => Some((ca2, id)),
            (None, None) => None,
            _ => anyhow::bail!("{} has one of ca2.pem and csms2.pem/csms2.key without the other", dir.display()),
        };
        let pki = Pki { ca_pem, ca_key_pem: read("ca.key")?, csms: pair("csms.pem", "csms.key")?, station: pair("station.pem", "station.key")?, second };
        // Fail at load time, not in the middle of a case.
        certs(&pki.ca_pem).with_context(|| format!("{}/ca.pem", dir.display()))?;
        for id in [&pki.csms, &pki.station].into_iter().flatten() {
            certs(&id.cert_pem)?;
            key(&id.key_pem)?;
        }
        Ok(pki)
    }

    fn issuer(&self, what: &str) -> Result<Issuer<'static, KeyPair>, String> {
        let key = self.ca_key_pem.as_deref().ok_or_else(|| format!("making {what} needs the CA's key (ca.key in the PKI directory)"))?;
        let key = KeyPair::from_pem(key).map_err(|e| format!("ca.key: {e}"))?;
        Issuer::from_ca_cert_pem(&self.ca_pem, key).map_err(|e| format!("ca.pem: {e}"))
    }

    fn untrusted(cn: &str, hosts: &[String], server: bool) -> Result<Identity, String> {
        let key = KeyPair::generate().map_err(|e| e.to_string())?;
        let issuer = Issuer::new(ca_params("an unknown CA"), key);
        leaf(&issuer, cn, hosts, server, false).map_err(|e| e.to_string())
    }

    /// The names the configured CSMS certificate is for, so that bad variants differ from it
    /// in one respect only.
    pub fn server_hosts(&self) -> Vec<String> {
        let names = || -> Option<Vec<String>> {
            let der = certs(&self.csms.as_ref()?.cert_pem).ok()?.into_iter().next()?;
            let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
            let san = cert.subject_alternative_name().ok()??;
            Some(
                san.value
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                        x509_parser::extensions::GeneralName::IPAddress(b) if b.len() == 4 => Some(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()),
                        _ => None,
                    })
                    .collect(),
            )
        };
        names().filter(|n| !n.is_empty()).unwrap_or_else(|| vec!["localhost".into(), "127.0.0.1".into()])
    }

    /// The server certificate to present as the CSMS at `hosts`.
    pub fn server(&self, v: Variant, hosts: &[String]) -> Result<Option<Identity>, String> {
        let cn = hosts.first().map_or("localhost", String::as_str);
        match v {
            Variant::Configured => self.csms.clone().map(Some).ok_or_else(|| "the PKI has no CSMS identity (csms.pem, csms.key)".into()),
            Variant::None => Ok(None),
            Variant::Untrusted => Self::untrusted(cn, hosts, true).map(Some),
            Variant::Expired => leaf(&self.issuer("an expired server certificate")?, cn, hosts, true, true).map(Some).map_err(|e| e.to_string()),
            Variant::SecondRoot => self.second.as_ref().map(|(_, id)| Some(id.clone())).ok_or_else(|| "the PKI has no second CSMS root (ca2.pem, csms2.pem, csms2.key)".into()),
            Variant::WrongIdentity => {
                let wrong = vec!["wrong-host.invalid".to_string()];
                leaf(&self.issuer("a server certificate for another host")?, &wrong[0], &wrong, true, false).map(Some).map_err(|e| e.to_string())
            }
        }
    }

    /// The certificate chain (PEM, the leaf then the CA) the CA issues for a station's
    /// certificate signing request, as a CSMS answers SignCertificate with CertificateSigned.
    /// The subject is the CSR's; the validity and usage are a client certificate's.
    pub fn sign_csr(&self, csr_pem: &str) -> Result<String, CsrError> {
        let issuer = self.issuer("a certificate for the station's CSR").map_err(CsrError::NoCaKey)?;
        let mut csr = rcgen::CertificateSigningRequestParams::from_pem(csr_pem).map_err(|e| CsrError::BadCsr(format!("the CSR does not parse or verify: {e}")))?;
        (csr.params.not_before, csr.params.not_after) = validity(false);
        csr.params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyAgreement];
        csr.params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = csr.signed_by(&issuer).map_err(|e| CsrError::BadCsr(format!("the CSR cannot be signed: {e}")))?;
        Ok(format!("{}{}", cert.pem(), self.ca_pem))
    }

    /// The client certificate to present as station `station_id`.
    pub fn client(&self, v: Variant, station_id: &str) -> Result<Option<Identity>, String> {
        match v {
            Variant::Configured => self.station.clone().map(Some).ok_or_else(|| "the PKI has no station identity (station.pem, station.key)".into()),
            Variant::None => Ok(None),
            Variant::Untrusted => Self::untrusted(station_id, &[], false).map(Some),
            Variant::Expired => leaf(&self.issuer("an expired client certificate")?, station_id, &[], false, true).map(Some).map_err(|e| e.to_string()),
            Variant::WrongIdentity => leaf(&self.issuer("a client certificate for another station")?, &format!("NOT-{station_id}"), &[], false, false).map(Some).map_err(|e| e.to_string()),
            Variant::SecondRoot => Err("second-root is a server certificate (a new CSMS), not a station's".into()),
        }
    }
}

/// The certificates of a PEM text (at least one).
pub fn certs(pem: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(|e| anyhow::anyhow!("bad certificate PEM: {e}"))?;
    anyhow::ensure!(!certs.is_empty(), "no certificate in the PEM text");
    Ok(certs)
}

pub fn key(pem: &str) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| anyhow::anyhow!("bad private key PEM: {e}"))
}
