//! WebSocket transport for both roles: a listener that accepts charging stations (harness as
//! CSMS) and a client that connects to a CSMS (harness as station), each negotiating the OCPP
//! subprotocol and recording the handshake in the case's trace.
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{net::TcpListener, sync::mpsc, task::AbortHandle};
use tokio_tungstenite::tungstenite::{
    client::IntoClientRequest,
    handshake::server::{ErrorResponse, Request, Response},
    http::{HeaderValue, StatusCode},
    protocol::WebSocketConfig,
};

use crate::{
    session::{Connection, SessionError},
    trace::Trace,
    version::OcppVersion,
};

/// Default for the largest OCPP-J message accepted from a DUT.
pub const MAX_MESSAGE: usize = 4 << 20;

static MAX_MESSAGE_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(MAX_MESSAGE);

/// Set the largest message accepted on connections opened from now on (`--max-message-bytes`);
/// a larger one ends the connection, and the case fails with the reason.
pub fn set_max_message(bytes: usize) {
    MAX_MESSAGE_BYTES.store(bytes.max(1024), std::sync::atomic::Ordering::Relaxed);
}

pub fn max_message() -> usize {
    MAX_MESSAGE_BYTES.load(std::sync::atomic::Ordering::Relaxed)
}

/// Small buffers: the defaults cost ~256 KiB per connection, which load mode cannot afford.
pub fn ws_config() -> WebSocketConfig {
    let max = max_message();
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(max * 2)
        .max_message_size(Some(max))
        .max_frame_size(Some(max))
}

/// The station id is the last path segment of the URL the station connects to.
pub fn station_id_from_path(path: &str) -> Option<String> {
    let seg = path.trim_end_matches('/').rsplit('/').next()?;
    (!seg.is_empty()).then(|| seg.to_string())
}

/// Pick the first subprotocol the client offers that we accept.
pub fn negotiate(offered: &str, accepted: &[OcppVersion]) -> Option<OcppVersion> {
    offered.split(',').map(str::trim).filter_map(OcppVersion::from_subprotocol).find(|v| accepted.contains(v))
}

type Accepted = Result<Connection, SessionError>;

/// Harness as CSMS: accepts charging-station connections and hands them to the running case.
pub struct Listener {
    addr: SocketAddr,
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Accepted>>,
    /// The running case's trace and accepted versions; replaced at each case start.
    current: Arc<Mutex<(Trace, Vec<OcppVersion>)>>,
    task: AbortHandle,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener {
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Listener> {
        let tcp = TcpListener::bind(addr).await?;
        let addr = tcp.local_addr()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let current = Arc::new(Mutex::new((Trace::new(), OcppVersion::ALL.to_vec())));
        let cur = current.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, peer)) = tcp.accept().await {
                let _ = stream.set_nodelay(true);
                let (trace, versions) = cur.lock().unwrap().clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(handshake(stream, peer, trace, versions).await);
                });
            }
        });
        Ok(Listener { addr, rx: tokio::sync::Mutex::new(rx), current, task: task.abort_handle() })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Route the following connections to this case.
    pub fn begin_case(&self, trace: Trace, versions: Vec<OcppVersion>) {
        *self.current.lock().unwrap() = (trace, versions);
    }

    /// Wait for the next station to connect (or to fail its handshake).
    pub async fn accept(&self, timeout: Duration) -> Result<Connection, SessionError> {
        let mut rx = self.rx.lock().await;
        match tokio::time::timeout(timeout, rx.recv()).await {
            Ok(Some(accepted)) => accepted,
            Ok(None) => Err(SessionError::Closed("the listener stopped".into())),
            Err(_) => Err(SessionError::Timeout(format!(
                "no charging station connected to ws://{} within {} ms",
                self.addr,
                timeout.as_millis()
            ))),
        }
    }
}

async fn handshake(stream: tokio::net::TcpStream, peer: SocketAddr, trace: Trace, versions: Vec<OcppVersion>) -> Accepted {
    let seen: Arc<Mutex<Option<(String, Option<OcppVersion>, String)>>> = Arc::default();
    let seen2 = seen.clone();
    let callback = move |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let path = req.uri().path().to_string();
        let offered = req.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let chosen = negotiate(&offered, &versions);
        *seen2.lock().unwrap() = Some((path.clone(), chosen, offered.clone()));
        let reject = |why: String| {
            let mut r = ErrorResponse::new(Some(why));
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Err(r)
        };
        if station_id_from_path(&path).is_none() {
            return reject(format!("no station id in the path {path:?}"));
        }
        match chosen {
            Some(v) => {
                resp.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static(v.subprotocol()));
                Ok(resp)
            }
            None => reject(format!("none of the offered subprotocols {offered:?} is one of {versions:?}")),
        }
    };
    let result = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config())).await;
    let (path, chosen, offered) = seen.lock().unwrap().clone().unwrap_or_default();
    let selected = chosen.map(|v| v.subprotocol()).unwrap_or("none");
    trace.handshake(format!("station {peer} -> GET {path}, offered subprotocols {offered:?}, selected {selected}"));
    let ws = result.map_err(|e| {
        let observed = format!("handshake from {peer} for {path:?} offering {offered:?} failed: {e}");
        trace.violation(None, "a WebSocket upgrade offering the OCPP subprotocol under test", observed.clone());
        SessionError::Protocol(observed)
    })?;
    let station_id = station_id_from_path(&path).unwrap_or_default();
    let version = chosen.expect("handshake succeeded with a version");
    trace.log("info", format!("station {station_id:?} connected from {peer} with {}", version.subprotocol()));
    Ok(Connection::spawn(ws, version, station_id, trace))
}

/// Harness as charging station: connect to `base_url/station_id` offering `version`.
pub async fn connect(base_url: &str, station_id: &str, version: OcppVersion, trace: Trace, timeout: Duration) -> Result<Connection, SessionError> {
    let url = format!("{}/{}", base_url.trim_end_matches('/'), station_id);
    let mut req = url.as_str().into_client_request().map_err(|e| SessionError::Usage(format!("bad DUT URL {url:?}: {e}")))?;
    req.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static(version.subprotocol()));
    let attempt = tokio_tungstenite::connect_async_with_config(req, Some(ws_config()), true);
    let (ws, resp) = match tokio::time::timeout(timeout, attempt).await {
        Err(_) => return Err(SessionError::Timeout(format!("connecting to {url} took longer than {} ms", timeout.as_millis()))),
        Ok(Err(e)) => {
            let observed = format!("connecting to {url} offering {} failed: {e}", version.subprotocol());
            trace.handshake(observed.clone());
            if matches!(e, tokio_tungstenite::tungstenite::Error::Protocol(_) | tokio_tungstenite::tungstenite::Error::Http(_)) {
                trace.violation(None, format!("the CSMS accepts the upgrade and selects {}", version.subprotocol()), observed.clone());
                return Err(SessionError::Protocol(observed));
            }
            return Err(SessionError::Closed(observed));
        }
        Ok(Ok(pair)) => pair,
    };
    let selected = resp.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).unwrap_or("");
    trace.handshake(format!("GET {url} offering {:?} -> {} selected {selected:?}", version.subprotocol(), resp.status()));
    trace.log("info", format!("connected to {url} with {selected}"));
    Ok(Connection::spawn(ws, version, station_id.to_string(), trace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_takes_the_first_accepted_offer() {
        use OcppVersion::*;
        assert_eq!(negotiate("ocpp2.1, ocpp2.0.1", &[V201]), Some(V201));
        assert_eq!(negotiate("ocpp2.1,ocpp2.0.1", &[V201, V21]), Some(V21));
        assert_eq!(negotiate("ocpp1.5", &[V16]), None);
        assert_eq!(negotiate("", &[V16]), None);
        assert_eq!(station_id_from_path("/ocpp/CS001"), Some("CS001".into()));
        assert_eq!(station_id_from_path("/"), None);
    }
}
