//! RFC 6960 OCSP at the byte level, for ISO 15118 (2.0.1 C07 contract certificates, M06 V2G
//! certificates): the CertID that OCPP's OCSPRequestData spells out in hex, the request a CSMS
//! sends to a responder, the response a responder signs, and reading both. DER through yasna;
//! digests and signature checks through ring.
use rcgen::{KeyPair, SigningKey};
use serde_json::{Value, json};
use time::OffsetDateTime;
use yasna::{
    Tag,
    models::{GeneralizedTime, ObjectIdentifier},
};

/// id-pkix-ocsp-basic (RFC 6960 §4.2.1).
const OCSP_BASIC: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 1];

/// The digest of a CertID. OCPP's HashAlgorithmEnumType has the SHA-2 ones; SHA-1 is what
/// many OCSP clients send by default, so a responder must understand it too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub const ALL: [HashAlgorithm; 4] = [HashAlgorithm::Sha1, HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha512];

    fn oid(self) -> &'static [u64] {
        match self {
            HashAlgorithm::Sha1 => &[1, 3, 14, 3, 2, 26],
            HashAlgorithm::Sha256 => &[2, 16, 840, 1, 101, 3, 4, 2, 1],
            HashAlgorithm::Sha384 => &[2, 16, 840, 1, 101, 3, 4, 2, 2],
            HashAlgorithm::Sha512 => &[2, 16, 840, 1, 101, 3, 4, 2, 3],
        }
    }

    fn from_oid(oid: &ObjectIdentifier) -> Option<HashAlgorithm> {
        Self::ALL.into_iter().find(|a| oid.components().as_slice() == a.oid())
    }

    /// The name in OCPP's HashAlgorithmEnumType ("SHA1" is not one: no OCPP message has it).
    pub fn ocpp_name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA1",
            HashAlgorithm::Sha256 => "SHA256",
            HashAlgorithm::Sha384 => "SHA384",
            HashAlgorithm::Sha512 => "SHA512",
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let alg = match self {
            HashAlgorithm::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlgorithm::Sha256 => &ring::digest::SHA256,
            HashAlgorithm::Sha384 => &ring::digest::SHA384,
            HashAlgorithm::Sha512 => &ring::digest::SHA512,
        };
        ring::digest::digest(alg, data).as_ref().to_vec()
    }
}

/// Which certificate an OCSP request or response is about (RFC 6960 §4.1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertId {
    pub algorithm: HashAlgorithm,
    pub issuer_name_hash: Vec<u8>,
    pub issuer_key_hash: Vec<u8>,
    /// The serial number, unsigned big-endian, without leading zero bytes.
    pub serial: Vec<u8>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(what: &str, s: &str) -> Result<Vec<u8>, String> {
    let s = if s.len() % 2 == 1 { format!("0{s}") } else { s.to_string() };
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16).map_err(|_| format!("{what} {s:?} is not hex"))).collect()
}

fn trimmed(serial: &[u8]) -> Vec<u8> {
    let start = serial.iter().position(|b| *b != 0).unwrap_or(serial.len().saturating_sub(1));
    serial[start..].to_vec()
}

impl CertId {
    /// The CertID of `cert` (DER) as issued by `issuer` (DER): the digests of the issuer's
    /// name (as written in `cert`) and of the issuer's public key bits.
    pub fn of(cert: &[u8], issuer: &[u8], algorithm: HashAlgorithm) -> Result<CertId, String> {
        let (_, c) = x509_parser::parse_x509_certificate(cert).map_err(|e| format!("the certificate does not parse: {e}"))?;
        let (_, i) = x509_parser::parse_x509_certificate(issuer).map_err(|e| format!("the issuer's certificate does not parse: {e}"))?;
        Ok(CertId {
            algorithm,
            issuer_name_hash: algorithm.digest(c.issuer().as_raw()),
            issuer_key_hash: algorithm.digest(&i.public_key().subject_public_key.data),
            serial: trimmed(c.raw_serial()),
        })
    }

    /// From OCPP's OCSPRequestData / CertificateHashDataType (hex strings).
    pub fn from_ocpp(v: &Value) -> Result<CertId, String> {
        let field = |k: &str| v[k].as_str().ok_or_else(|| format!("no {k} in the OCSP request data"));
        let algorithm = match field("hashAlgorithm")? {
            "SHA256" => HashAlgorithm::Sha256,
            "SHA384" => HashAlgorithm::Sha384,
            "SHA512" => HashAlgorithm::Sha512,
            other => return Err(format!("hashAlgorithm {other:?} is not an OCPP one")),
        };
        Ok(CertId {
            algorithm,
            issuer_name_hash: unhex("issuerNameHash", field("issuerNameHash")?)?,
            issuer_key_hash: unhex("issuerKeyHash", field("issuerKeyHash")?)?,
            serial: trimmed(&unhex("serialNumber", field("serialNumber")?)?),
        })
    }

    /// As OCPP's OCSPRequestData (with `responder` as responderURL).
    pub fn to_ocpp(&self, responder: &str) -> Value {
        let serial = hex(&self.serial);
        json!({
            "hashAlgorithm": self.algorithm.ocpp_name(),
            "issuerNameHash": hex(&self.issuer_name_hash),
            "issuerKeyHash": hex(&self.issuer_key_hash),
            "serialNumber": serial.trim_start_matches('0'),
            "responderURL": responder,
        })
    }

    fn write(&self, w: yasna::DERWriter) {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                w.next().write_oid(&ObjectIdentifier::from_slice(self.algorithm.oid()));
                w.next().write_null();
            });
            w.next().write_bytes(&self.issuer_name_hash);
            w.next().write_bytes(&self.issuer_key_hash);
            w.next().write_bigint_bytes(&self.serial, true);
        })
    }

    fn read(r: yasna::BERReader) -> yasna::ASN1Result<Result<CertId, String>> {
        r.read_sequence(|r| {
            let oid = r.next().read_sequence(|r| {
                let oid = r.next().read_oid()?;
                r.read_optional(|r| r.read_null())?;
                Ok(oid)
            })?;
            let issuer_name_hash = r.next().read_bytes()?;
            let issuer_key_hash = r.next().read_bytes()?;
            let (serial, _) = r.next().read_bigint_bytes()?;
            Ok(match HashAlgorithm::from_oid(&oid) {
                Some(algorithm) => Ok(CertId { algorithm, issuer_name_hash, issuer_key_hash, serial: trimmed(&serial) }),
                None => Err(format!("the CertID's hash algorithm {oid} is none of SHA-1/256/384/512")),
            })
        })
    }
}

/// What a responder says of one certificate (RFC 6960 §4.2.1 CertStatus).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertStatus {
    Good,
    Revoked,
    Unknown,
}

impl CertStatus {
    pub fn name(self) -> &'static str {
        match self {
            CertStatus::Good => "good",
            CertStatus::Revoked => "revoked",
            CertStatus::Unknown => "unknown",
        }
    }
}

/// An OCSPRequest for `ids`, unsigned, without extensions (what a CSMS sends).
pub fn request(ids: &[CertId]) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                w.next().write_sequence_of(|w| {
                    for id in ids {
                        w.next().write_sequence(|w| id.write(w.next()));
                    }
                });
            });
        })
    })
}

/// The CertIDs an OCSPRequest asks about; its version, requestor name, extensions and
/// signature are read past.
pub fn parse_request(der: &[u8]) -> Result<Vec<CertId>, String> {
    let parsed = yasna::parse_ber(der, |r| {
        r.read_sequence(|r| {
            let ids = r.next().read_sequence(|r| {
                r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_der()))?;
                r.read_optional(|r| r.read_tagged(Tag::context(1), |r| r.read_der()))?;
                let mut ids = Vec::new();
                r.next().read_sequence_of(|r| {
                    ids.push(r.read_sequence(|r| {
                        let id = CertId::read(r.next())?;
                        r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_der()))?;
                        Ok(id)
                    })?);
                    Ok(())
                })?;
                r.read_optional(|r| r.read_tagged(Tag::context(2), |r| r.read_der()))?;
                Ok(ids)
            })?;
            r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_der()))?;
            Ok(ids)
        })
    });
    let ids = parsed.map_err(|e| format!("not an OCSPRequest of RFC 6960 (DER): {e}"))?.into_iter().collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err("the OCSPRequest names no certificate".into());
    }
    Ok(ids)
}

/// An OCSPResponse without response bytes: `status` 1 malformedRequest, 2 internalError, 3
/// tryLater, 5 sigRequired, 6 unauthorized (RFC 6960 §4.2.1).
pub fn unsuccessful(status: i64) -> Vec<u8> {
    yasna::construct_der(|w| w.write_sequence(|w| w.next().write_enum(status)))
}

/// The signature algorithm OID for `key`, and whether its parameters are NULL.
fn signature_oid(key: &KeyPair) -> Result<(&'static [u64], bool), String> {
    if key.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256 {
        Ok((&[1, 2, 840, 10045, 4, 3, 2], false))
    } else if key.algorithm() == &rcgen::PKCS_ECDSA_P384_SHA384 {
        Ok((&[1, 2, 840, 10045, 4, 3, 3], false))
    } else if key.algorithm() == &rcgen::PKCS_RSA_SHA256 {
        Ok((&[1, 2, 840, 113549, 1, 1, 11], true))
    } else {
        Err("the CA key's algorithm cannot sign an OCSP response here (ECDSA P-256/P-384 or RSA)".into())
    }
}

/// A successful OCSPResponse (DER) with a BasicOCSPResponse saying `answers`, signed by `key`
/// of the responder whose subject is `responder_name` (DER Name).
pub fn response(key: &KeyPair, responder_name: &[u8], answers: &[(CertId, CertStatus)]) -> Result<Vec<u8>, String> {
    let (sig_oid, sig_null) = signature_oid(key)?;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).map_err(|e| e.to_string())?;
    let now = GeneralizedTime::from_datetime(now);
    let tbs = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_tagged(Tag::context(1), |w| w.write_der(responder_name));
            w.next().write_generalized_time(&now);
            w.next().write_sequence_of(|w| {
                for (id, status) in answers {
                    w.next().write_sequence(|w| {
                        id.write(w.next());
                        match status {
                            CertStatus::Good => w.next().write_tagged_implicit(Tag::context(0), |w| w.write_null()),
                            // RevokedInfo: the revocation time (the reason is optional).
                            CertStatus::Revoked => w.next().write_tagged_implicit(Tag::context(1), |w| w.write_sequence(|w| w.next().write_generalized_time(&now))),
                            CertStatus::Unknown => w.next().write_tagged_implicit(Tag::context(2), |w| w.write_null()),
                        }
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
    Ok(yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_enum(0);
            w.next().write_tagged(Tag::context(0), |w| {
                w.write_sequence(|w| {
                    w.next().write_oid(&ObjectIdentifier::from_slice(OCSP_BASIC));
                    w.next().write_bytes(&basic);
                })
            });
        })
    }))
}

/// An OCSPResponse read: what it says of each certificate, once its signature verified
/// against `responder_key` (SubjectPublicKeyInfo bits, as in the responder's certificate).
pub fn parse_response(der: &[u8], responder_key: &[u8]) -> Result<Vec<(CertId, CertStatus)>, String> {
    let (status, basic) = yasna::parse_der(der, |r| {
        r.read_sequence(|r| {
            let status = r.next().read_enum()?;
            let basic = r.read_optional(|r| {
                r.read_tagged(Tag::context(0), |r| {
                    r.read_sequence(|r| {
                        let oid = r.next().read_oid()?;
                        Ok((oid, r.next().read_bytes()?))
                    })
                })
            })?;
            Ok((status, basic))
        })
    })
    .map_err(|e| format!("not an OCSPResponse of RFC 6960 (DER): {e}"))?;
    let Some((oid, basic)) = basic.filter(|_| status == 0) else {
        return Err(format!("responseStatus {status}, not successful (0)"));
    };
    if oid.components().as_slice() != OCSP_BASIC {
        return Err(format!("responseType {oid}, not id-pkix-ocsp-basic"));
    }
    let (tbs, sig_oid, signature) = yasna::parse_der(&basic, |r| {
        r.read_sequence(|r| {
            let tbs = r.next().read_der()?;
            let oid = r.next().read_sequence(|r| {
                let oid = r.next().read_oid()?;
                r.read_optional(|r| r.read_null())?;
                Ok(oid)
            })?;
            let (signature, _) = r.next().read_bitvec_bytes()?;
            r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_der()))?;
            Ok((tbs, oid, signature))
        })
    })
    .map_err(|e| format!("the BasicOCSPResponse does not parse: {e}"))?;
    let verifier: &dyn ring::signature::VerificationAlgorithm = match sig_oid.components().as_slice() {
        [1, 2, 840, 10045, 4, 3, 2] => &ring::signature::ECDSA_P256_SHA256_ASN1,
        [1, 2, 840, 10045, 4, 3, 3] => &ring::signature::ECDSA_P384_SHA384_ASN1,
        [1, 2, 840, 113549, 1, 1, 11] => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        _ => return Err(format!("signature algorithm {sig_oid} is not one this reader checks")),
    };
    ring::signature::UnparsedPublicKey::new(verifier, responder_key).verify(&tbs, &signature).map_err(|_| "the response's signature does not verify with the responder's key".to_string())?;
    yasna::parse_der(&tbs, |r| {
        r.read_sequence(|r| {
            r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_der()))?;
            r.next().read_der()?; // responderID, byName [1] or byKey [2]
            r.next().read_generalized_time()?;
            let mut answers = Vec::new();
            r.next().read_sequence_of(|r| {
                answers.push(r.read_sequence(|r| {
                    let id = CertId::read(r.next())?;
                    let status = match r.next().read_tagged_der()?.tag() {
                        t if t == Tag::context(0) => CertStatus::Good,
                        t if t == Tag::context(1) => CertStatus::Revoked,
                        _ => CertStatus::Unknown,
                    };
                    r.next().read_generalized_time()?;
                    r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_der()))?;
                    r.read_optional(|r| r.read_tagged(Tag::context(1), |r| r.read_der()))?;
                    Ok(id.map(|id| (id, status)))
                })?);
                Ok(())
            })?;
            r.read_optional(|r| r.read_tagged(Tag::context(1), |r| r.read_der()))?;
            Ok(answers)
        })
    })
    .map_err(|e| format!("the ResponseData does not parse: {e}"))?
    .into_iter()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(algorithm: HashAlgorithm, serial: &[u8]) -> CertId {
        CertId { algorithm, issuer_name_hash: algorithm.digest(b"name"), issuer_key_hash: algorithm.digest(b"key"), serial: serial.to_vec() }
    }

    #[test]
    fn a_request_reads_back_and_a_response_verifies_only_with_its_key() {
        let ids = [id(HashAlgorithm::Sha1, &[0x80, 1]), id(HashAlgorithm::Sha256, &[5])];
        assert_eq!(parse_request(&request(&ids)).unwrap(), ids);
        assert!(parse_request(b"\x30\x00").is_err(), "an empty SEQUENCE is no request");
        let key = KeyPair::generate().unwrap();
        let name = yasna::construct_der(|w| w.write_sequence(|_| {}));
        let der = response(&key, &name, &[(ids[0].clone(), CertStatus::Revoked), (ids[1].clone(), CertStatus::Good)]).unwrap();
        let answers = parse_response(&der, key.public_key_raw()).unwrap();
        assert_eq!(answers, vec![(ids[0].clone(), CertStatus::Revoked), (ids[1].clone(), CertStatus::Good)]);
        let other = KeyPair::generate().unwrap();
        assert!(parse_response(&der, other.public_key_raw()).unwrap_err().contains("signature"));
    }

    /// `openssl ocsp -issuer ca.pem -cert leaf.pem -reqout req.der` (SHA-1 CertID, a nonce
    /// extension): what many CSMSs send.
    #[test]
    fn an_openssl_request_with_a_nonce_parses() {
        const OPENSSL: &str = "30683066303f303d303b300906052b0e03021a0500041411048cd20cb3592307d019fd0889562b62d3649204146d671d5c1007a1ad447e330c281cc1f2af591c2602021234a2233021301f06092b0601050507300102041204109c6b3752d594ae538eef4dc8c0a3a83e";
        let ids = parse_request(&unhex("request", OPENSSL).unwrap()).unwrap();
        assert_eq!((ids.len(), ids[0].algorithm, ids[0].serial.as_slice()), (1, HashAlgorithm::Sha1, &[0x12, 0x34][..]));
        let key = KeyPair::generate().unwrap();
        // The answer names the same CertID (openssl reads it: `ocsp -respin -resp_text`).
        let der = response(&key, &yasna::construct_der(|w| w.write_sequence(|_| {})), &[(ids[0].clone(), CertStatus::Good)]).unwrap();
        assert_eq!(parse_response(&der, key.public_key_raw()).unwrap(), vec![(ids[0].clone(), CertStatus::Good)]);
    }

    #[test]
    fn ocpp_hash_data_round_trips_without_leading_zeroes() {
        let data = json!({"hashAlgorithm": "SHA256", "issuerNameHash": "0a0b", "issuerKeyHash": "0c", "serialNumber": "00f1", "responderURL": "http://r"});
        let id = CertId::from_ocpp(&data).unwrap();
        assert_eq!(id.serial, vec![0xf1]);
        assert_eq!(id.to_ocpp("http://r")["serialNumber"], "f1");
        assert!(CertId::from_ocpp(&json!({"hashAlgorithm": "MD5", "issuerNameHash": "", "issuerKeyHash": "", "serialNumber": "1"})).is_err());
    }
}
