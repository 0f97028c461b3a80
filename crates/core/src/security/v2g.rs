//! The test PKI's ISO 15118 side (2.0.1 A02 for the V2G certificate, M06 for OCSP): a V2G root
//! over the CA's own key, a V2G charging station certificate (with two sub-CAs, as ISO 15118-2
//! has them) for a station's CSR, and OCSP responses that call a certificate good. The root is
//! the same for every run of one PKI (same key, subject and serial, so the same hash data);
//! each signature makes its own sub-CAs, so a chain is whole by itself.
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SigningKey};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use yasna::models::{GeneralizedTime, ObjectIdentifier};

use super::pki::{CsrError, Pki};

/// The V2G root's serial number: fixed, so its hash data is too.
const ROOT_SERIAL: [u8; 8] = [0x0b, 0x2c, 0x15, 0x11, 0x80, 0x00, 0x00, 0x01];
/// id-pkix-ocsp-basic (RFC 6960 §4.2.1).
const OCSP_BASIC: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 1];
const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
/// Where the sub-CAs and the leaf say their OCSP responder is (authority information access):
/// a station names it as responderURL in GetCertificateStatus.
pub const OCSP_RESPONDER: &str = "http://ocsp.ocpp-harness.test/v2g";

/// The authority-information-access extension naming `OCSP_RESPONDER` (RFC 5280 §4.2.2.1).
fn ocsp_access() -> rcgen::CustomExtension {
    let content = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                w.next().write_oid(&ObjectIdentifier::from_slice(&[1, 3, 6, 1, 5, 5, 7, 48, 1]));
                w.next().write_tagged_implicit(yasna::Tag::context(6), |w| w.write_ia5_string(OCSP_RESPONDER));
            })
        })
    });
    rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], content)
}

fn ca(name: &str, path_len: Option<u8>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, name);
    p.distinguished_name.push(DnType::OrganizationName, "ocpp-harness test PKI");
    p.is_ca = IsCa::Ca(path_len.map_or(BasicConstraints::Unconstrained, BasicConstraints::Constrained));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    p.not_after = OffsetDateTime::now_utc() + Duration::days(3650);
    p
}

fn sub_ca(name: &str, path_len: u8) -> CertificateParams {
    let mut p = ca(name, Some(path_len));
    p.custom_extensions.push(ocsp_access());
    p
}

fn root_params() -> CertificateParams {
    let mut p = ca("ocpp-harness test V2G root", None);
    p.serial_number = Some(ROOT_SERIAL.to_vec().into());
    p
}

impl Pki {
    fn ca_key(&self, what: &str) -> Result<KeyPair, String> {
        let key = self.ca_key_pem.as_deref().ok_or_else(|| format!("{what} needs the CA's key (ca.key in the PKI directory)"))?;
        KeyPair::from_pem(key).map_err(|e| format!("ca.key: {e}"))
    }

    /// The V2G root (PEM), to install on a station as V2GRootCertificate.
    pub fn v2g_root(&self) -> Result<String, String> {
        let key = self.ca_key("the V2G root")?;
        root_params().self_signed(&key).map(|c| c.pem()).map_err(|e| e.to_string())
    }

    /// A V2G charging station certificate for `csr_pem` (ISO 15118's SECC certificate): the
    /// chain leaf, SubCA2, SubCA1 (PEM), under `v2g_root`.
    pub fn sign_v2g_csr(&self, csr_pem: &str) -> Result<String, CsrError> {
        let root = Issuer::new(root_params(), self.ca_key("a V2G certificate").map_err(CsrError::NoCaKey)?);
        let sub = |name: &str, path_len: u8, issuer: &Issuer<'_, KeyPair>| -> Result<(String, Issuer<'static, KeyPair>), CsrError> {
            let key = KeyPair::generate().map_err(|e| CsrError::NoCaKey(e.to_string()))?;
            let params = sub_ca(name, path_len);
            let cert = params.signed_by(&key, issuer).map_err(|e| CsrError::NoCaKey(e.to_string()))?;
            Ok((cert.pem(), Issuer::new(params, key)))
        };
        let (sub1, sub1_issuer) = sub("ocpp-harness test V2G SubCA1", 1, &root)?;
        let (sub2, sub2_issuer) = sub("ocpp-harness test V2G SubCA2", 0, &sub1_issuer)?;
        let mut csr = rcgen::CertificateSigningRequestParams::from_pem(csr_pem).map_err(|e| CsrError::BadCsr(format!("the CSR does not parse or verify: {e}")))?;
        csr.params.not_before = OffsetDateTime::now_utc() - Duration::days(1);
        csr.params.not_after = OffsetDateTime::now_utc() + Duration::days(365);
        csr.params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyAgreement];
        csr.params.custom_extensions.push(ocsp_access());
        let leaf = csr.signed_by(&sub2_issuer).map_err(|e| CsrError::BadCsr(format!("the CSR cannot be signed: {e}")))?;
        Ok(format!("{}{sub2}{sub1}", leaf.pem()))
    }

    /// An OCSP response (RFC 6960, DER, base64) that calls good each certificate `request`
    /// names (OCPP OCSPRequestData: one object or a list), signed by the CA's key.
    pub fn ocsp_response(&self, request: &Value) -> Result<String, String> {
        use base64::Engine;
        let ids: Vec<&Value> = match request {
            Value::Array(a) => a.iter().collect(),
            one => vec![one],
        };
        let mut certs = Vec::new();
        for id in ids {
            let hex = |k: &str| -> Result<Vec<u8>, String> {
                let s = id[k].as_str().ok_or_else(|| format!("no {k} in the OCSP request data"))?;
                let s = if s.len() % 2 == 1 { format!("0{s}") } else { s.to_string() };
                (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| format!("{k} {s:?} is not hex"))).collect()
            };
            certs.push((hex("issuerNameHash")?, hex("issuerKeyHash")?, hex("serialNumber")?));
        }
        let key = self.ca_key("an OCSP response")?;
        let (sig_oid, sig_null): (&[u64], bool) = if key.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256 {
            (&[1, 2, 840, 10045, 4, 3, 2], false)
        } else if key.algorithm() == &rcgen::PKCS_ECDSA_P384_SHA384 {
            (&[1, 2, 840, 10045, 4, 3, 3], false)
        } else if key.algorithm() == &rcgen::PKCS_RSA_SHA256 {
            (&[1, 2, 840, 113549, 1, 1, 11], true)
        } else {
            return Err("the CA key's algorithm cannot sign an OCSP response here (ECDSA P-256/P-384 or RSA)".into());
        };
        let root_der = self.v2g_root().and_then(|pem| super::pki::certs(&pem).map_err(|e| e.to_string()))?.remove(0);
        let (_, root) = x509_parser::parse_x509_certificate(&root_der).map_err(|e| e.to_string())?;
        let now = GeneralizedTime::from_datetime(OffsetDateTime::now_utc().replace_nanosecond(0).map_err(|e| e.to_string())?);
        let tbs = yasna::construct_der(|w| {
            w.write_sequence(|w| {
                // responderID byName: the V2G root's subject.
                w.next().write_tagged(yasna::Tag::context(1), |w| w.write_der(root.subject().as_raw()));
                w.next().write_generalized_time(&now);
                w.next().write_sequence_of(|w| {
                    for (name, key, serial) in &certs {
                        w.next().write_sequence(|w| {
                            w.next().write_sequence(|w| {
                                w.next().write_sequence(|w| {
                                    w.next().write_oid(&ObjectIdentifier::from_slice(SHA256));
                                    w.next().write_null();
                                });
                                w.next().write_bytes(name);
                                w.next().write_bytes(key);
                                w.next().write_bigint_bytes(serial, true);
                            });
                            // certStatus good: [0] IMPLICIT NULL.
                            w.next().write_tagged_implicit(yasna::Tag::context(0), |w| w.write_null());
                            w.next().write_generalized_time(&now);
                        });
                    }
                });
            })
        });
        let signature = key.sign(&tbs).map_err(|e| e.to_string())?;
        let basic = yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_der(&tbs);
                w.next().write_sequence(|w| {
                    w.next().write_oid(&ObjectIdentifier::from_slice(sig_oid));
                    if sig_null {
                        w.next().write_null();
                    }
                });
                w.next().write_bitvec_bytes(&signature, signature.len() * 8);
            })
        });
        let response = yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_enum(0);
                w.next().write_tagged(yasna::Tag::context(0), |w| {
                    w.write_sequence(|w| {
                        w.next().write_oid(&ObjectIdentifier::from_slice(OCSP_BASIC));
                        w.next().write_bytes(&basic);
                    })
                });
            })
        });
        Ok(base64::engine::general_purpose::STANDARD.encode(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v2g_chain_goes_up_to_the_same_root_and_ocsp_answers_parse() {
        let pki = Pki::generate("CS1", &["localhost".into()]).unwrap();
        let (a, b) = (pki.v2g_root().unwrap(), pki.v2g_root().unwrap());
        let subject = |pem: &str| {
            let der = super::super::pki::certs(pem).unwrap().remove(0);
            let (_, c) = x509_parser::parse_x509_certificate(&der).unwrap();
            (c.subject().to_string(), c.issuer().to_string(), c.public_key().raw.to_vec(), c.raw_serial().to_vec())
        };
        // Same key, subject and serial: the same hash data, whatever the signature.
        assert_eq!(subject(&a), subject(&b));
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "CS1");
        let csr = params.serialize_request(&key).unwrap().pem().unwrap();
        let chain = pki.sign_v2g_csr(&csr).unwrap();
        let certs = super::super::pki::certs(&chain).unwrap();
        assert_eq!(certs.len(), 3, "leaf, SubCA2, SubCA1");
        let top = x509_parser::parse_x509_certificate(&certs[2]).unwrap().1;
        assert_eq!(top.issuer().to_string(), subject(&a).0, "SubCA1 is issued by the V2G root");
        let ocsp = pki.ocsp_response(&serde_json::json!({"hashAlgorithm": "SHA256", "issuerNameHash": "ab12", "issuerKeyHash": "cd34", "serialNumber": "5", "responderURL": "http://ocsp"})).unwrap();
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD.decode(ocsp).unwrap();
        let parsed = yasna::parse_der(&der, |r| {
            r.read_sequence(|r| {
                let status = r.next().read_enum()?;
                let oid = r.next().read_tagged(yasna::Tag::context(0), |r| r.read_sequence(|r| {
                    let oid = r.next().read_oid()?;
                    r.next().read_bytes()?;
                    Ok(oid)
                }))?;
                Ok((status, oid))
            })
        })
        .unwrap();
        assert_eq!(parsed, (0, ObjectIdentifier::from_slice(OCSP_BASIC)));
    }
}
