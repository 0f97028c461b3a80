//! The test PKI's ISO 15118 side (2.0.1 A02 for the V2G certificate, M06 for OCSP): a V2G root
//! over the CA's own key, a V2G charging station certificate (with two sub-CAs, as ISO 15118-2
//! has them) for a station's CSR, and OCSP responses that call a certificate good. The root is
//! the same for every run of one PKI (same key, subject and serial, so the same hash data);
//! each signature makes its own sub-CAs, so a chain is whole by itself.
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use yasna::models::ObjectIdentifier;

use super::{
    ocsp::{self, CertId, CertStatus},
    pki::{CsrError, Pki},
};

/// The V2G root's serial number: fixed, so its hash data is too.
const ROOT_SERIAL: [u8; 8] = [0x0b, 0x2c, 0x15, 0x11, 0x80, 0x00, 0x00, 0x01];
/// Where the sub-CAs and the leaf say their OCSP responder is (authority information access):
/// a station names it as responderURL in GetCertificateStatus.
pub const OCSP_RESPONDER: &str = "http://ocsp.ocpp-harness.test/v2g";

/// The authority-information-access extension naming `url` as OCSP responder (RFC 5280
/// §4.2.2.1).
fn ocsp_access(url: &str) -> rcgen::CustomExtension {
    let content = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                w.next().write_oid(&ObjectIdentifier::from_slice(&[1, 3, 6, 1, 5, 5, 7, 48, 1]));
                w.next().write_tagged_implicit(yasna::Tag::context(6), |w| w.write_ia5_string(url));
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
    p.custom_extensions.push(ocsp_access(OCSP_RESPONDER));
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

    /// The V2G root, DER: the issuer of the chains below, for CertIDs and signature checks.
    pub fn v2g_root_der(&self) -> Result<Vec<u8>, String> {
        let key = self.ca_key("the V2G root")?;
        root_params().self_signed(&key).map(|c| c.der().to_vec()).map_err(|e| e.to_string())
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
        csr.params.custom_extensions.push(ocsp_access(OCSP_RESPONDER));
        let leaf = csr.signed_by(&sub2_issuer).map_err(|e| CsrError::BadCsr(format!("the CSR cannot be signed: {e}")))?;
        Ok(format!("{}{sub2}{sub1}", leaf.pem()))
    }

    /// The subject (DER Name) and public key bits of the responder that signs this PKI's
    /// OCSP responses: the V2G root, over the CA's key.
    pub fn ocsp_responder(&self) -> Result<(Vec<u8>, Vec<u8>), String> {
        let root_der = self.v2g_root_der()?;
        let (_, root) = x509_parser::parse_x509_certificate(&root_der).map_err(|e| e.to_string())?;
        Ok((root.subject().as_raw().to_vec(), root.public_key().subject_public_key.data.to_vec()))
    }

    /// A signed OCSP response (DER) saying `answers`.
    pub fn sign_ocsp(&self, answers: &[(CertId, CertStatus)]) -> Result<Vec<u8>, String> {
        let key = self.ca_key("an OCSP response")?;
        ocsp::response(&key, &self.ocsp_responder()?.0, answers)
    }

    /// An OCSP response (RFC 6960, DER, base64) that calls good each certificate `request`
    /// names (OCPP OCSPRequestData: one object or a list), signed by the CA's key.
    pub fn ocsp_response(&self, request: &Value) -> Result<String, String> {
        use base64::Engine;
        let ids = match request {
            Value::Array(a) => a.iter().collect::<Vec<_>>(),
            one => vec![one],
        };
        let answers = ids.into_iter().map(|v| CertId::from_ocpp(v).map(|id| (id, CertStatus::Good))).collect::<Result<Vec<_>, _>>()?;
        Ok(base64::engine::general_purpose::STANDARD.encode(self.sign_ocsp(&answers)?))
    }

    /// An EV's contract certificate for `emaid` (ISO 15118-2: ECDSA, the eMAID as common name)
    /// and its MO sub-CA, under the V2G root, each naming `responder` for OCSP: the chain
    /// (leaf, sub-CA; PEM) and the DER of leaf, sub-CA and root.
    pub fn contract_chain(&self, emaid: &str, responder: &str) -> Result<ContractChain, String> {
        let root = Issuer::new(root_params(), self.ca_key("a contract certificate")?);
        let sub_key = KeyPair::generate().map_err(|e| e.to_string())?;
        let mut sub_params = ca("ocpp-harness test MO SubCA", Some(0));
        sub_params.custom_extensions.push(ocsp_access(responder));
        let sub = sub_params.signed_by(&sub_key, &root).map_err(|e| e.to_string())?;
        let sub_issuer = Issuer::new(sub_params, sub_key);
        let mut leaf = CertificateParams::default();
        leaf.distinguished_name.push(DnType::CommonName, emaid);
        leaf.distinguished_name.push(DnType::OrganizationName, "ocpp-harness test MO");
        leaf.not_before = OffsetDateTime::now_utc() - Duration::days(1);
        leaf.not_after = OffsetDateTime::now_utc() + Duration::days(365);
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyAgreement];
        leaf.custom_extensions.push(ocsp_access(responder));
        let leaf = leaf.signed_by(&KeyPair::generate().map_err(|e| e.to_string())?, &sub_issuer).map_err(|e| e.to_string())?;
        let root_der = self.v2g_root_der()?;
        Ok(ContractChain { pem: format!("{}{}", leaf.pem(), sub.pem()), leaf: leaf.der().to_vec(), sub_ca: sub.der().to_vec(), root: root_der })
    }
}

/// An EV's contract certificate chain (`Pki::contract_chain`).
pub struct ContractChain {
    /// Leaf, then sub-CA (PEM), as a station passes it in Authorize's `certificate`.
    pub pem: String,
    pub leaf: Vec<u8>,
    pub sub_ca: Vec<u8>,
    pub root: Vec<u8>,
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
        let data = serde_json::json!({"hashAlgorithm": "SHA256", "issuerNameHash": "ab12", "issuerKeyHash": "cd34", "serialNumber": "5", "responderURL": "http://ocsp"});
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD.decode(pki.ocsp_response(&data).unwrap()).unwrap();
        let answers = ocsp::parse_response(&der, &pki.ocsp_responder().unwrap().1).unwrap();
        assert_eq!(answers, vec![(CertId::from_ocpp(&data).unwrap(), CertStatus::Good)]);
    }

    #[test]
    fn a_contract_chain_names_its_emaid_and_responder_and_goes_up_to_the_v2g_root() {
        let pki = Pki::generate("CS1", &["localhost".into()]).unwrap();
        let chain = pki.contract_chain("NLHRSC000000001", "http://127.0.0.1:9/ocsp").unwrap();
        let (_, leaf) = x509_parser::parse_x509_certificate(&chain.leaf).unwrap();
        let (_, sub) = x509_parser::parse_x509_certificate(&chain.sub_ca).unwrap();
        assert_eq!(leaf.subject().iter_common_name().next().and_then(|c| c.as_str().ok()), Some("NLHRSC000000001"));
        assert_eq!(leaf.issuer(), sub.subject());
        leaf.verify_signature(Some(sub.public_key())).unwrap();
        let (_, root) = x509_parser::parse_x509_certificate(&chain.root).unwrap();
        sub.verify_signature(Some(root.public_key())).unwrap();
        assert!(String::from_utf8_lossy(&chain.leaf).contains("http://127.0.0.1:9/ocsp"));
        assert_eq!(super::super::pki::certs(&chain.pem).unwrap().len(), 2);    }
}
