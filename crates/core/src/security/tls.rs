//! TLS for both roles with rustls (ring provider, TLS 1.2 and 1.3, no OpenSSL), and the one way
//! every part of the harness opens or accepts an OCPP WebSocket over it: [`dial`] (the harness
//! station and the reference station) and [`accept`] (the harness CSMS and the reference CSMS).
use std::{sync::Arc, time::Duration};

use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::CryptoProvider,
    pki_types::{CertificateDer, ServerName, UnixTime},
    server::WebPkiClientVerifier,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        self,
        client::IntoClientRequest,
        handshake::client::Response,
        http::{HeaderValue, StatusCode},
    },
};

use super::pki::{Identity, certs, key};

/// Any byte stream a WebSocket runs on: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
pub type BoxIo = Box<dyn Io>;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca_pem: &str) -> anyhow::Result<Arc<RootCertStore>> {
    let mut roots = RootCertStore::empty();
    for c in certs(ca_pem)? {
        roots.add(c).map_err(|e| anyhow::anyhow!("bad CA certificate: {e}"))?;
    }
    Ok(Arc::new(roots))
}

/// The CSMS side: present `id`; with `client_ca`, require a client certificate chaining to it
/// (security profile 3).
pub fn server_config(id: &Identity, client_ca: Option<&str>) -> anyhow::Result<Arc<ServerConfig>> {
    server_config_with(id, client_ca, false)
}

/// As [`server_config`]; `any_client` asks for a client certificate but accepts whatever comes
/// (fault `accept-any-certificate` of the reference CSMS).
pub fn server_config_with(id: &Identity, client_ca: Option<&str>, any_client: bool) -> anyhow::Result<Arc<ServerConfig>> {
    let b = ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let b = match client_ca {
        Some(_) if any_client => b.with_client_cert_verifier(Arc::new(AcceptAnyClient(provider()))),
        Some(ca) => b.with_client_cert_verifier(WebPkiClientVerifier::builder_with_provider(roots(ca)?, provider()).build()?),
        None => b.with_no_client_auth(),
    };
    Ok(Arc::new(b.with_single_cert(certs(&id.cert_pem)?, key(&id.key_pem)?)?))
}

/// A broken CSMS that takes any client certificate (still checking the handshake signature).
#[derive(Debug)]
struct AcceptAnyClient(Arc<CryptoProvider>);

impl rustls::server::danger::ClientCertVerifier for AcceptAnyClient {
    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }
    fn client_auth_mandatory(&self) -> bool {
        false
    }
    fn verify_client_cert(&self, _: &CertificateDer<'_>, _: &[CertificateDer<'_>], _: UnixTime) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        Ok(rustls::server::danger::ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The station side: trust `ca_pem` (or anything, for the `trust-any-server` fault), present
/// `client` when given.
pub fn client_config(ca_pem: &str, client: Option<&Identity>, trust_any: bool) -> anyhow::Result<Arc<ClientConfig>> {
    let b = ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let b = if trust_any { b.dangerous().with_custom_certificate_verifier(Arc::new(TrustAny(provider()))) } else { b.with_root_certificates(roots(ca_pem)?) };
    Ok(Arc::new(match client {
        Some(id) => b.with_client_auth_cert(certs(&id.cert_pem)?, key(&id.key_pem)?)?,
        None => b.with_no_client_auth(),
    }))
}

/// A broken station that accepts any server certificate (fault `trust-any-server`).
#[derive(Debug)]
struct TrustAny(Arc<CryptoProvider>);

impl ServerCertVerifier for TrustAny {
    fn verify_server_cert(&self, _: &CertificateDer<'_>, _: &[CertificateDer<'_>], _: &ServerName<'_>, _: &[u8], _: UnixTime) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What a TLS session negotiated, for the trace and the case.
#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    pub version: String,
    /// The subject CN of the peer's certificate, if it presented one.
    pub peer_cn: Option<String>,
}

fn info(version: Option<rustls::ProtocolVersion>, peer: Option<&[CertificateDer<'_>]>) -> TlsInfo {
    let peer_cn = peer.and_then(|c| c.first()).and_then(|der| common_name(der));
    TlsInfo { version: version.map(|v| format!("{v:?}")).unwrap_or_default(), peer_cn }
}

/// The subject common name of a DER certificate.
pub fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    cert.subject().iter_common_name().next()?.as_str().ok().map(str::to_string)
}

/// Accept a TLS session on `tcp` when `tls` is given, else pass the plain stream on.
pub async fn accept(tcp: tokio::net::TcpStream, tls: Option<Arc<ServerConfig>>, timeout: Duration) -> Result<(BoxIo, Option<TlsInfo>), String> {
    let Some(cfg) = tls else { return Ok((Box::new(tcp), None)) };
    let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
    match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
        Err(_) => Err(format!("no TLS handshake within {} ms", timeout.as_millis())),
        Ok(Err(e)) => Err(format!("TLS handshake failed: {e}")),
        Ok(Ok(s)) => {
            let (_, conn) = s.get_ref();
            let i = info(conn.protocol_version(), conn.peer_certificates());
            Ok((Box::new(s), Some(i)))
        }
    }
}

/// How to open an OCPP WebSocket to a CSMS.
#[derive(Clone)]
pub struct Dial {
    /// ws:// or wss:// URL including the station id.
    pub url: String,
    pub subprotocol: String,
    /// Basic-auth user and password (security profiles 1 and 2).
    pub basic: Option<(String, String)>,
    /// Required for wss:// URLs.
    pub tls: Option<Arc<ClientConfig>>,
    pub timeout: Duration,
}

impl std::fmt::Debug for Dial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dial {{ url: {:?}, basic: {}, tls: {} }}", self.url, self.basic.is_some(), self.tls.is_some())
    }
}

/// Why a dial did not give a WebSocket.
#[derive(Debug)]
pub enum DialError {
    /// The URL or options make no sense.
    Usage(String),
    Timeout(String),
    /// Nothing there: connection refused, no route.
    Unreachable(String),
    /// The peer turned us away on purpose: a TLS alert, HTTP 401/403, or the connection closed
    /// during the TLS or HTTP handshake.
    Refused(String),
    /// We turned the server away: its certificate does not chain to our CA, has expired, or
    /// names another host.
    BadServerCertificate(String),
    /// We turned the server away: it chose a TLS version below 1.2 (A00.FR.313).
    OldTls(String),
    /// The peer answered, but not with a valid upgrade (wrong subprotocol, another status).
    Protocol(String),
}

impl std::fmt::Display for DialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (DialError::Usage(m) | DialError::Timeout(m) | DialError::Unreachable(m) | DialError::Refused(m) | DialError::BadServerCertificate(m) | DialError::OldTls(m) | DialError::Protocol(m)) = self;
        f.write_str(m)
    }
}

pub struct Dialed {
    pub ws: WebSocketStream<BoxIo>,
    pub response: Response,
    pub tls: Option<TlsInfo>,
}

/// Connect, secure, authenticate and upgrade, all within `d.timeout`.
pub async fn dial(d: &Dial, ws_config: tungstenite::protocol::WebSocketConfig) -> Result<Dialed, DialError> {
    match tokio::time::timeout(d.timeout, dial_inner(d, ws_config)).await {
        Ok(r) => r,
        Err(_) => Err(DialError::Timeout(format!("connecting to {} took longer than {} ms", d.url, d.timeout.as_millis()))),
    }
}

/// TCP to the URL's host (and TLS for wss://), with the upgrade request to send over it.
async fn open(d: &Dial) -> Result<(tungstenite::handshake::client::Request, BoxIo, Option<TlsInfo>), DialError> {
    let url = &d.url;
    let mut req = url.as_str().into_client_request().map_err(|e| DialError::Usage(format!("bad CSMS URL {url:?}: {e}")))?;
    let secure = match req.uri().scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        _ => return Err(DialError::Usage(format!("{url:?} is neither ws:// nor wss://"))),
    };
    let host = req.uri().host().unwrap_or_default().trim_matches(|c| c == '[' || c == ']').to_string();
    let port = req.uri().port_u16().unwrap_or(if secure { 443 } else { 80 });
    req.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_str(&d.subprotocol).map_err(|e| DialError::Usage(e.to_string()))?);
    if let Some((user, password)) = &d.basic {
        let value = HeaderValue::from_str(&super::basic::encode(user, password)).map_err(|e| DialError::Usage(e.to_string()))?;
        req.headers_mut().insert("authorization", value);
    }
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| DialError::Unreachable(format!("cannot reach {host}:{port}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let (io, tls): (BoxIo, _) = match (secure, &d.tls) {
        (false, _) => (Box::new(tcp), None),
        (true, None) => return Err(DialError::Usage(format!("{url} needs TLS, and no TLS settings were given"))),
        (true, Some(cfg)) => {
            let name = ServerName::try_from(host.clone()).map_err(|e| DialError::Usage(format!("{host:?} is not a server name: {e}")))?;
            let s = tokio_rustls::TlsConnector::from(cfg.clone()).connect(name, tcp).await.map_err(|e| {
                let ours = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
                let what = format!("TLS handshake with {host}:{port} failed: {e}");
                match ours {
                    Some(rustls::Error::InvalidCertificate(_)) => DialError::BadServerCertificate(what),
                    Some(rustls::Error::PeerIncompatible(rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13)) => DialError::OldTls(what),
                    _ => DialError::Refused(what),
                }
            })?;
            let (_, conn) = s.get_ref();
            let i = info(conn.protocol_version(), conn.peer_certificates());
            (Box::new(s), Some(i))
        }
    };
    Ok((req, io, tls))
}

async fn dial_inner(d: &Dial, ws_config: tungstenite::protocol::WebSocketConfig) -> Result<Dialed, DialError> {
    let url = &d.url;
    let (req, io, tls) = open(d).await?;
    match tokio_tungstenite::client_async_with_config(req, io, Some(ws_config)).await {
        Ok((ws, response)) => Ok(Dialed { ws, response, tls }),
        Err(tungstenite::Error::Http(resp)) => {
            let status = resp.status();
            let what = format!("{url} answered the upgrade with HTTP {status}");
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN { Err(DialError::Refused(what)) } else { Err(DialError::Protocol(what)) }
        }
        // With TLS 1.3 a rejected client certificate shows up here, after our side finished.
        Err(tungstenite::Error::Io(e)) => Err(DialError::Refused(format!("{url} ended the connection during the upgrade: {e}"))),
        Err(e @ (tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed | tungstenite::Error::Protocol(tungstenite::error::ProtocolError::HandshakeIncomplete))) => {
            Err(DialError::Refused(format!("{url} ended the connection during the upgrade: {e}")))
        }
        Err(e) => Err(DialError::Protocol(format!("upgrade at {url} failed: {e}"))),
    }
}

/// What a CSMS answered to an upgrade request, taken as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Upgrade {
    /// The HTTP status (101 when it switched to WebSocket).
    pub status: u16,
    /// The Sec-WebSocket-Protocol header of the answer.
    pub selected: Option<String>,
    /// After a 101: how the CSMS ended the connection within the wait, or None if it kept it.
    pub closed: Option<String>,
}

/// Offer `d.subprotocol` (any text, e.g. "ocpp0.1, ocpp2.0.1") and report the answer without
/// judging it — tungstenite refuses an answer without the offered subprotocol before it can
/// be looked at. After a 101, wait up to `wait` for the CSMS to close, then close ourselves.
pub async fn probe_upgrade(d: &Dial, wait: Duration) -> Result<Upgrade, DialError> {
    use http_body_util::Empty;
    use hyper_util::rt::TokioIo;
    use tokio::io::AsyncReadExt;
    let within = |what: &str| DialError::Timeout(format!("{what} at {} took longer than {} ms", d.url, d.timeout.as_millis()));
    let (req, io, _) = tokio::time::timeout(d.timeout, open(d)).await.map_err(|_| within("connecting"))??;
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<&'static [u8]>>(TokioIo::new(io))
        .await
        .map_err(|e| DialError::Refused(format!("HTTP to {} failed: {e}", d.url)))?;
    tokio::spawn(conn.with_upgrades());
    let mut builder = hyper::Request::get(req.uri().path())
        .header("host", req.uri().authority().map(|a| a.as_str()).unwrap_or_default())
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", tungstenite::handshake::client::generate_key());
    for (name, value) in req.headers() {
        if matches!(name.as_str(), "sec-websocket-protocol" | "authorization") {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
    }
    let request = builder.body(Empty::new()).map_err(|e| DialError::Usage(e.to_string()))?;
    let resp = tokio::time::timeout(d.timeout, sender.send_request(request))
        .await
        .map_err(|_| within("the upgrade"))?
        .map_err(|e| DialError::Refused(format!("{} ended the connection during the upgrade: {e}", d.url)))?;
    let status = resp.status().as_u16();
    let selected = resp.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).map(str::to_string);
    if status != 101 {
        return Ok(Upgrade { status, selected, closed: None });
    }
    let mut io = TokioIo::new(hyper::upgrade::on(resp).await.map_err(|e| DialError::Protocol(format!("upgrade at {} failed: {e}", d.url)))?);
    let mut buf = [0u8; 256];
    let closed = match tokio::time::timeout(wait, io.read(&mut buf)).await {
        Err(_) => None,
        Ok(Ok(0)) => Some("closed the TCP connection".to_string()),
        // 0x8: the WebSocket close opcode.
        Ok(Ok(_)) if buf[0] & 0x0F == 0x8 => Some("sent a WebSocket close".to_string()),
        Ok(Ok(n)) => {
            tracing::debug!("the CSMS sent {n} bytes after the upgrade instead of closing");
            None
        }
        Ok(Err(e)) => Some(format!("dropped the connection ({e})")),
    };
    Ok(Upgrade { status, selected, closed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::pki::{Pki, Variant};

    /// A one-connection wss server: Ok(peer CN) or the TLS/upgrade failure.
    async fn serve_once(cfg: Arc<ServerConfig>) -> (String, tokio::task::JoinHandle<Result<Option<String>, String>>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("wss://127.0.0.1:{}/ocpp/CS001", l.local_addr().unwrap().port());
        let task = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let (io, info) = accept(tcp, Some(cfg), Duration::from_secs(5)).await?;
            let echo = |req: &tungstenite::handshake::server::Request, mut resp: tungstenite::handshake::server::Response| {
                if let Some(p) = req.headers().get("sec-websocket-protocol") {
                    resp.headers_mut().insert("sec-websocket-protocol", p.clone());
                }
                Ok(resp)
            };
            tokio_tungstenite::accept_hdr_async(io, echo).await.map_err(|e| e.to_string())?;
            Ok(info.and_then(|i| i.peer_cn))
        });
        (url, task)
    }

    fn dial_opts(url: String, tls: Arc<ClientConfig>) -> Dial {
        Dial { url, subprotocol: "ocpp2.0.1".into(), basic: None, tls: Some(tls), timeout: Duration::from_secs(5) }
    }

    #[tokio::test]
    async fn mutual_tls_with_the_generated_pki_and_each_bad_certificate_refused() {
        let pki = Pki::generate("CS001", &["localhost".into(), "127.0.0.1".into()]).unwrap();
        let hosts = ["localhost".to_string(), "127.0.0.1".to_string()];
        let server = |v| server_config(&pki.server(v, &hosts).unwrap().unwrap(), Some(&pki.ca_pem)).unwrap();
        let client = |v| client_config(&pki.ca_pem, pki.client(v, "CS001").unwrap().as_ref(), false).unwrap();
        let ws = crate::transport::ws_config();

        // Profile 3 as configured: the server sees the station's CN.
        let (url, task) = serve_once(server(Variant::Configured)).await;
        let d = dial(&dial_opts(url, client(Variant::Configured)), ws).await.map_err(|e| e.to_string()).unwrap();
        assert!(d.tls.unwrap().version.contains("TLSv1_3"));
        assert_eq!(task.await.unwrap().unwrap().as_deref(), Some("CS001"));

        // The station refuses bad server certificates.
        for v in [Variant::Untrusted, Variant::Expired, Variant::WrongIdentity] {
            let (url, task) = serve_once(server(v)).await;
            let e = dial(&dial_opts(url, client(Variant::Configured)), ws).await.err().unwrap();
            assert!(matches!(e, DialError::BadServerCertificate(_)), "{v:?}: {e}");
            assert!(task.await.unwrap().is_err(), "{v:?}: the server side saw a session");
        }
        // A station that trusts anything does not.
        let (url, _task) = serve_once(server(Variant::Untrusted)).await;
        let any = client_config(&pki.ca_pem, pki.client(Variant::Configured, "CS001").unwrap().as_ref(), true).unwrap();
        assert!(dial(&dial_opts(url, any), ws).await.is_ok());

        // The CSMS refuses bad or missing client certificates.
        for v in [Variant::None, Variant::Untrusted, Variant::Expired] {
            let (url, task) = serve_once(server(Variant::Configured)).await;
            let e = dial(&dial_opts(url, client(v)), ws).await.err().unwrap();
            assert!(matches!(e, DialError::Refused(_)), "{v:?}: {e}");
            let seen = task.await.unwrap().unwrap_err();
            assert!(seen.contains("TLS handshake failed"), "{v:?}: {seen}");
        }
        // A certificate for another station passes TLS: the CN check is the CSMS's job.
        let (url, task) = serve_once(server(Variant::Configured)).await;
        dial(&dial_opts(url, client(Variant::WrongIdentity)), ws).await.map_err(|e| e.to_string()).unwrap();
        assert_eq!(task.await.unwrap().unwrap().as_deref(), Some("NOT-CS001"));
    }

    #[test]
    fn a_pki_directory_round_trips_and_broken_ones_are_refused() {
        let dir = std::env::temp_dir().join(format!("pki-test-{}", std::process::id()));
        let pki = Pki::generate("CS001", &["localhost".into()]).unwrap();
        pki.write(&dir).unwrap();
        let back = Pki::load(&dir).unwrap();
        assert_eq!(back.ca_pem, pki.ca_pem);
        assert!(back.client(Variant::Expired, "CS001").unwrap().is_some());
        std::fs::remove_file(dir.join("station.key")).unwrap();
        assert!(Pki::load(&dir).unwrap_err().to_string().contains("without the other"));
        std::fs::write(dir.join("ca.pem"), "not a certificate").unwrap();
        assert!(Pki::load(&dir).is_err());
        std::fs::remove_file(dir.join("ca.pem")).unwrap();
        assert!(Pki::load(&dir).unwrap_err().to_string().contains("no ca.pem"));
        let _ = std::fs::remove_dir_all(&dir);
        // Without the CA's key, no expired certificate the DUT would otherwise trust.
        let lab = Pki { ca_key_pem: None, ..pki };
        assert!(lab.client(Variant::Expired, "CS001").unwrap_err().contains("ca.key"));
    }
}
