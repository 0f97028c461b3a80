//! A ClientHello that offers only TLS 1.0 or 1.1, written by hand: rustls (rightly) cannot
//! speak them, and A00.FR.315/418 want to see a CSMS end such a handshake. Nothing past the
//! ServerHello is needed, so no old TLS is implemented here — only the first record each way.
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the server did with the old ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldTlsAnswer {
    /// It sent a ServerHello choosing this version (`TLSv1_1`...): it went on with it.
    ServerHello(String),
    /// It ended the handshake: the alert it sent, or how it closed.
    Refused(String),
    /// Neither within the wait.
    Silent,
}

/// `(major, minor)` on the wire for "1.0" and "1.1", the only versions offered or served.
pub fn wire_version(version: &str) -> Option<[u8; 2]> {
    match version {
        "1.0" => Some([3, 1]),
        "1.1" => Some([3, 2]),
        _ => None,
    }
}

fn version_name(v: [u8; 2]) -> String {
    match v {
        [3, 0] => "SSLv3".into(),
        [3, n] => format!("TLSv1_{}", n - 1),
        [a, b] => format!("version {a}.{b}"),
    }
}

fn with_len16(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// A ClientHello record offering at most `version`: CBC suites with RSA and ECDHE key
/// exchange, as TLS 1.0/1.1 clients sent them, and no supported_versions extension.
pub fn client_hello(version: [u8; 2], server_name: Option<&str>) -> Vec<u8> {
    let mut body = version.to_vec();
    let random: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
    body.extend_from_slice(&random);
    body.push(0); // no session id
    let suites: [u16; 7] = [0xc009, 0xc00a, 0xc013, 0xc014, 0x002f, 0x0035, 0x00ff];
    body.extend(with_len16(&suites.iter().flat_map(|s| s.to_be_bytes()).collect::<Vec<_>>()));
    body.extend_from_slice(&[1, 0]); // null compression only
    let mut ext = vec![];
    if let Some(name) = server_name.filter(|n| n.parse::<std::net::IpAddr>().is_err()) {
        let mut entry = vec![0];
        entry.extend(with_len16(name.as_bytes()));
        ext.extend_from_slice(&[0, 0]);
        ext.extend(with_len16(&with_len16(&entry)));
    }
    ext.extend_from_slice(&[0x00, 0x0a]); // supported_groups: secp256r1, secp384r1
    ext.extend(with_len16(&with_len16(&[0x00, 0x17, 0x00, 0x18])));
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]); // ec_point_formats: uncompressed
    body.extend(with_len16(&ext));
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    let mut record = vec![0x16, 3, 1];
    record.extend(with_len16(&hs));
    record
}

/// Host and port of a wss:// URL (443 when it names none); None for anything else.
pub fn wss_endpoint(url: &str) -> Option<(String, u16)> {
    let uri = url.parse::<tokio_tungstenite::tungstenite::http::Uri>().ok().filter(|u| u.scheme_str() == Some("wss"))?;
    Some((uri.host()?.trim_matches(|c| c == '[' || c == ']').to_string(), uri.port_u16().unwrap_or(443)))
}

/// How the start of a peer's first record came back.
enum Head {
    /// This many bytes in the buffer; 0: the peer closed.
    Bytes(usize),
    /// Nothing before the deadline.
    Silent,
    /// The connection failed before any byte.
    Reset(std::io::Error),
}

/// Read the start of the peer's first record into `buf`: `want` bytes, 7 when it is an alert
/// (all an alert has), or what came before the peer closed or `deadline`.
async fn read_head(stream: &mut tokio::net::TcpStream, buf: &mut [u8], want: usize, deadline: tokio::time::Instant) -> Head {
    let mut got = 0;
    while got < want && !(got >= 7 && buf[0] == 0x15) {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf[got..])).await {
            Err(_) if got == 0 => return Head::Silent,
            Ok(Err(e)) if got == 0 => return Head::Reset(e),
            Err(_) | Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got += n,
        }
    }
    Head::Bytes(got)
}

/// Read what answers a ClientHello: the first record's kind.
pub fn classify(first: &[u8]) -> OldTlsAnswer {
    match first {
        [0x15, _, _, _, _, level, desc, ..] => OldTlsAnswer::Refused(format!("TLS alert {} (level {level})", alert_name(*desc))),
        [0x16, _, _, _, _, 0x02, _, _, _, major, minor, ..] => OldTlsAnswer::ServerHello(version_name([*major, *minor])),
        [] => OldTlsAnswer::Refused("closed the connection".into()),
        other => OldTlsAnswer::Refused(format!("answered {} bytes that are no ServerHello ({:02x?})", other.len(), &other[..other.len().min(8)])),
    }
}

fn alert_name(desc: u8) -> String {
    match desc {
        40 => "handshake_failure".into(),
        47 => "illegal_parameter".into(),
        70 => "protocol_version".into(),
        71 => "insufficient_security".into(),
        80 => "internal_error".into(),
        d => format!("#{d}"),
    }
}

/// Connect to `host:port`, offer at most TLS `version` ("1.0" or "1.1"), and say what came
/// back within `wait`; then close.
pub async fn offer(host: &str, port: u16, version: &str, wait: Duration) -> Result<OldTlsAnswer, String> {
    let v = wire_version(version).ok_or_else(|| format!("TLS version {version:?}: only \"1.0\" and \"1.1\" can be offered"))?;
    let mut tcp = tokio::time::timeout(wait, tokio::net::TcpStream::connect((host, port)))
        .await
        .map_err(|_| format!("connecting to {host}:{port} took longer than {} ms", wait.as_millis()))?
        .map_err(|e| format!("cannot reach {host}:{port}: {e}"))?;
    tcp.write_all(&client_hello(v, Some(host))).await.map_err(|e| format!("sending the ClientHello to {host}:{port}: {e}"))?;
    let mut buf = vec![0u8; 16];
    // Enough bytes to tell an alert from a ServerHello's version, or the end of the stream.
    Ok(match read_head(&mut tcp, &mut buf, 11, tokio::time::Instant::now() + wait).await {
        Head::Silent => OldTlsAnswer::Silent,
        Head::Reset(e) => OldTlsAnswer::Refused(format!("reset the connection ({e})")),
        Head::Bytes(n) => classify(&buf[..n]),
    })
}

/// The client's version in a ClientHello offering at most TLS 1.1 (none for 1.2 and later:
/// client_version 3.3, or a supported_versions extension).
pub fn old_hello_version(record: &[u8]) -> Option<[u8; 2]> {
    match record {
        [0x16, _, _, _, _, 0x01, _, _, _, 3, minor, ..] if *minor < 3 && !record.windows(2).any(|w| w == [0x00, 0x2b]) => Some([3, *minor]),
        _ => None,
    }
}

/// A ServerHello record choosing `v` (and a CBC suite, no compression).
fn server_hello(v: [u8; 2]) -> Vec<u8> {
    let mut body = v.to_vec();
    body.extend_from_slice(&[0x42; 32]);
    body.push(0);
    body.extend_from_slice(&[0xc0, 0x13, 0]); // ECDHE_RSA_WITH_AES_128_CBC_SHA, no compression
    let mut hs = vec![2, 0, 0, body.len() as u8];
    hs.extend(body);
    let mut record = vec![0x16, v[0], v[1]];
    record.extend(with_len16(&hs));
    record
}

/// Harness as CSMS offering an old TLS to a station (TC_A_06_CS): take its ClientHello,
/// answer a ServerHello choosing `version` ("1.0", "1.1"), and see what the station does
/// within `wait`. Ok(how it ended the handshake), or Err(what it did instead).
pub async fn serve_old(mut stream: tokio::net::TcpStream, version: &str, wait: Duration) -> Result<String, String> {
    let v = wire_version(version).ok_or_else(|| format!("TLS version {version:?}: only \"1.0\" and \"1.1\" can be served"))?;
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(wait, stream.read(&mut buf)).await {
        Ok(Ok(n)) if n > 5 && buf[0] == 0x16 && buf[5] == 1 => {}
        Ok(Ok(n)) => return Err(format!("the station sent no ClientHello ({n} bytes)")),
        Ok(Err(e)) => return Err(format!("the station's connection failed before its ClientHello: {e}")),
        Err(_) => return Err(format!("no ClientHello within {} ms", wait.as_millis())),
    }
    stream.write_all(&server_hello(v)).await.map_err(|e| format!("sending the ServerHello: {e}"))?;
    let got = match read_head(&mut stream, &mut buf, 7, tokio::time::Instant::now() + wait).await {
        Head::Silent => return Err(format!("the station neither answered nor closed within {} ms of a ServerHello choosing {}", wait.as_millis(), version_name(v))),
        Head::Reset(_) => 0,
        Head::Bytes(n) => n,
    };
    match &buf[..got] {
        [0x15, _, _, _, _, level, desc, ..] => Ok(format!("the station ended the handshake with TLS alert {} (level {level})", alert_name(*desc))),
        [] => Ok("the station closed the connection".into()),
        [kind, ..] => Err(format!("the station went on after a ServerHello choosing {} (record type {kind})", version_name(v))),
    }
}

/// A station with fault accept-old-tls: offer TLS 1.2 in a hand-written ClientHello; if the
/// server chooses an older version, go on (a ChangeCipherSpec) as a careless client would:
/// Some(the version). None, without harm, when the server answers anything else.
pub async fn go_on_with_old(host: &str, port: u16) -> Option<String> {
    let mut tcp = tokio::net::TcpStream::connect((host, port)).await.ok()?;
    tcp.write_all(&client_hello([3, 3], Some(host))).await.ok()?;
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await.ok()?.ok()?;
    let OldTlsAnswer::ServerHello(v) = classify(&buf[..n]) else { return None };
    if v == "TLSv1_2" || v == "TLSv1_3" {
        return None;
    }
    let _ = tcp.write_all(&[0x14, 3, 1, 0, 1, 1]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    Some(v)
}

/// For the reference CSMS's fault accept-old-tls: if the client's first record offers only
/// an old TLS, answer a ServerHello choosing it (all a client sees before it gives up on the
/// version) and close: true. Otherwise leave the stream untouched: false.
pub async fn pretend_old_server(stream: &tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 512];
    let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(10), stream.peek(&mut buf)).await else { return false };
    let Some(v) = old_hello_version(&buf[..n]) else { return false };
    let _ = stream.try_write(&server_hello(v));
    tokio::time::sleep(Duration::from_millis(100)).await;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hello_offers_only_the_old_version() {
        let h = client_hello([3, 2], Some("csms.example"));
        assert_eq!(&h[..3], &[0x16, 3, 1]);
        assert_eq!(usize::from(u16::from_be_bytes([h[3], h[4]])), h.len() - 5, "record length");
        assert_eq!(h[5], 1, "ClientHello");
        assert_eq!(&h[9..11], &[3, 2], "client_version TLS 1.1");
        // No supported_versions (43) extension, which would offer newer versions.
        assert!(!h.windows(2).any(|w| w == [0x00, 0x2b]), "{h:02x?}");
    }

    #[test]
    fn only_old_hellos_are_old() {
        assert_eq!(old_hello_version(&client_hello([3, 1], None)), Some([3, 1]));
        assert_eq!(old_hello_version(&client_hello([3, 3], None)), None);
    }

    #[test]
    fn answers_are_told_apart() {
        assert_eq!(classify(&[0x15, 3, 3, 0, 2, 2, 70]), OldTlsAnswer::Refused("TLS alert protocol_version (level 2)".into()));
        assert_eq!(classify(&[0x16, 3, 2, 0, 80, 2, 0, 0, 76, 3, 2]), OldTlsAnswer::ServerHello("TLSv1_1".into()));
        assert_eq!(classify(&[]), OldTlsAnswer::Refused("closed the connection".into()));
    }

    /// rustls, as the reference CSMS uses it, ends an old handshake with an alert.
    #[tokio::test]
    async fn a_rustls_server_refuses_the_old_hello() {
        let pki = crate::security::pki::Pki::generate("CS-old-tls", &["localhost".into(), "127.0.0.1".into()]).unwrap();
        let cfg = crate::security::tls::server_config(pki.csms.as_ref().unwrap(), None).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = tokio_rustls::TlsAcceptor::from(cfg).accept(tcp).await;
        });
        match offer("127.0.0.1", port, "1.1", Duration::from_secs(5)).await.unwrap() {
            // protocol_version or handshake_failure (it shares no suite with a TLS 1.1 client).
            OldTlsAnswer::Refused(why) => assert!(why.starts_with("TLS alert"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
