//! Harness as charging station: the one station the harness plays against a CSMS DUT for the
//! whole run. A real charger connects and boots once, then stays: every case adopts its live,
//! registered connection (OCTT's reusable state Booted), heartbeats and background traffic go
//! on between cases, and it reconnects or boots again only when a case's subject is the
//! connection or the boot (the case calls `connect-csms`) or when the connection is gone.
//! Every (re)connect keeps a gap after the last close — a CSMS that tears a station's queue
//! down on close and builds it on connect must not be raced (one crashed on a 13 ms gap).
use std::{
    sync::{Arc, Mutex, atomic::{AtomicU32, Ordering}},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::time::Instant;

use ocpp_core::{
    security::{Credentials, Security, pki::Variant, rotation::PasswordRotation},
    session::{CallOutcome, Connection, Mode, SessionError, Watcher},
    trace::Trace,
    transport,
    version::OcppVersion,
};

use crate::description::Timing;

/// How the station dials, for one case.
pub struct Dial<'a> {
    /// The CSMS's base URL (or URL template) as the case sees it.
    pub url: &'a str,
    pub station_id: &'a str,
    pub version: OcppVersion,
    /// The security in force for the case (its password store learns rotated passwords).
    pub security: &'a Security,
    pub timing: Timing,
    /// The EVSEs the station reports after its boot.
    pub evses: u32,
    /// The least time between a close and the next connect (the description's
    /// `retry-back-off-wait-minimum-s`, OCPP-J §5.3).
    pub gap: Duration,
    pub trace: &'a Trace,
}

impl Dial<'_> {
    fn response(&self) -> Duration {
        Duration::from_millis(u64::from(self.timing.response_ms))
    }
}

/// The connection every case adopts, and what it is to.
struct Live {
    conn: Connection,
    version: OcppVersion,
    url: String,
    profile: u8,
    heartbeat: tokio::task::AbortHandle,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// What the station's connections taught it, shared with their watchers.
#[derive(Default)]
struct Registration {
    /// The version at which the CSMS accepted the last BootNotification; None while booting
    /// or when it did not.
    accepted_at: Mutex<Option<OcppVersion>>,
    /// The heartbeat interval of the last accepted boot (seconds).
    interval_s: AtomicU32,
    boots: AtomicU32,
}

/// Follows the boots on one connection at one version.
struct Registrar(Arc<Registration>, OcppVersion);

impl Watcher for Registrar {
    fn sending(&self, action: &str, _payload: &Value) {
        if action == "BootNotification" {
            self.0.boots.fetch_add(1, Ordering::Relaxed);
            *self.0.accepted_at.lock().unwrap() = None;
        }
    }

    fn answered(&self, action: &str, _request: &Value, result: &Value) {
        if action == "BootNotification" && result["status"] == "Accepted" {
            *self.0.accepted_at.lock().unwrap() = Some(self.1);
            self.0.interval_s.store(result["interval"].as_u64().unwrap_or(0) as u32, Ordering::Relaxed);
        }
    }
}

#[derive(Default)]
pub struct OwnStation {
    live: tokio::sync::Mutex<Option<Live>>,
    /// Held while a heartbeat is on the wire, so that no case gets the connection with our
    /// CALL outstanding.
    talking: Arc<tokio::sync::Mutex<()>>,
    registration: Arc<Registration>,
    /// The last time one of the station's connections was closed or seen gone.
    last_close: Mutex<Option<Instant>>,
    connections: AtomicU32,
    /// The last number handed out by `unique`.
    numbers: AtomicU32,
}

/// The counts results.json shows for the harness station.
pub struct Counts {
    pub connections: u32,
    pub boots: u32,
    pub registered: bool,
}

impl OwnStation {
    /// A number never handed out before in this run (eventId, requestId...).
    pub fn unique(&self) -> u32 {
        self.numbers.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn counts(&self) -> Counts {
        Counts {
            connections: self.connections.load(Ordering::Relaxed),
            boots: self.registration.boots.load(Ordering::Relaxed),
            registered: self.registration.accepted_at.lock().unwrap().is_some(),
        }
    }

    /// The live, registered connection, taken by the case with `claim` held: the one from
    /// before if it is still open and to the same CSMS, else a new one (booting only if the
    /// CSMS has not accepted the station at this version; a reconnect alone needs no boot, B04).
    pub async fn ready(&self, d: &Dial<'_>, claim: &[String]) -> Result<Connection, SessionError> {
        let mut live = self.live.lock().await;
        let _quiet = self.talking.lock().await;
        let profile = d.security.profile;
        let reusable = live.as_ref().is_some_and(|l| !l.conn.is_closed() && l.version == d.version && l.url == d.url && l.profile == profile);
        if !reusable {
            self.retire(&mut live, d.trace).await;
            let conn = self.dial(d, Credentials::Configured, Variant::Configured).await?;
            if *self.registration.accepted_at.lock().unwrap() != Some(d.version) {
                self.boot(&conn, d).await?;
            } else {
                d.trace.log("state", "the harness station reconnected; the CSMS accepted it before, so it does not boot again (B04)");
            }
            *live = Some(self.keep(conn, d));
        }
        let conn = live.as_ref().map(|l| l.conn.clone()).expect("set above");
        conn.retarget(d.trace.clone());
        conn.adopt(claim);
        Ok(conn)
    }

    /// A connection the case asked for itself (its subject is the connection or the boot):
    /// the live one is closed first, as a rebooting station's would be. With the configured
    /// credentials it becomes the live one, so a case that leaves it open and registered
    /// hands it to the next.
    pub async fn connect(&self, d: &Dial<'_>, credentials: Credentials, certificate: Variant, claim: &[String]) -> Result<Connection, SessionError> {
        let mut live = self.live.lock().await;
        let _quiet = self.talking.lock().await;
        self.retire(&mut live, d.trace).await;
        let configured = matches!((&credentials, &certificate), (Credentials::Configured, Variant::Configured));
        let conn = self.dial(d, credentials, certificate).await?;
        conn.adopt(claim);
        if configured {
            *live = Some(self.keep(conn.clone(), d));
        }
        Ok(conn)
    }

    /// The live connection, if it is still open (for what a case left open at the CSMS).
    pub async fn open_connection(&self) -> Option<Connection> {
        self.live.lock().await.as_ref().map(|l| l.conn.clone()).filter(|c| !c.is_closed())
    }

    /// After a case: the live connection goes on in background mode, recording into
    /// `between` (the time between cases); one the case closed is let go.
    pub async fn end_case(&self, between: Trace) {
        let mut live = self.live.lock().await;
        // Connections the case opened and dropped close now: the next connect keeps its gap.
        self.closed_now();
        match live.as_ref() {
            Some(l) if !l.conn.is_closed() => {
                l.conn.to_background();
                l.conn.retarget(between);
            }
            Some(_) => self.retire(&mut live, &between).await,
            None => {}
        }
    }

    /// Close the live connection (if any) and remember when its socket was gone: the gap
    /// counts from the moment the CSMS, too, saw the connection end.
    async fn retire(&self, live: &mut Option<Live>, trace: &Trace) {
        if let Some(old) = live.take() {
            if !old.conn.is_closed() {
                trace.log("state", "the harness station closes its connection before it connects again");
                old.conn.close();
            }
            let at = old.conn.gone(ocpp_core::session::CLOSE_LINGER * 2).await.unwrap_or_else(Instant::now);
            let mut last = self.last_close.lock().unwrap();
            *last = Some(last.map_or(at, |l| l.max(at)));
        }
    }

    fn closed_now(&self) {
        *self.last_close.lock().unwrap() = Some(Instant::now());
    }

    /// Open a WebSocket after the gap, and follow its registration and password changes.
    async fn dial(&self, d: &Dial<'_>, credentials: Credentials, certificate: Variant) -> Result<Connection, SessionError> {
        let last = *self.last_close.lock().unwrap();
        if let Some(wait) = last.map(|t| (t + d.gap).saturating_duration_since(Instant::now())).filter(|w| !w.is_zero()) {
            d.trace.log("state", format!("the harness station waits {} ms after its last close before it connects (a charger's back-off)", wait.as_millis()));
            tokio::time::sleep(wait).await;
        }
        let client = d.security.client(d.station_id, credentials, certificate).map_err(SessionError::Usage)?;
        let timeout = Duration::from_millis(u64::from(d.timing.connect_ms));
        let conn = transport::connect(d.url, d.station_id, d.version, d.trace.clone(), timeout, &client).await;
        let conn = match conn {
            Ok(c) => c,
            Err(e) => {
                self.closed_now();
                return Err(e);
            }
        };
        self.connections.fetch_add(1, Ordering::Relaxed);
        conn.watch(Arc::new(Registrar(self.registration.clone(), d.version)));
        let (weak, run, id) = (conn.downgrade(), d.security.clone(), d.station_id.to_string());
        conn.watch(Arc::new(PasswordRotation::new(d.station_id, move |pw| {
            if let Some(t) = weak.trace() {
                t.log("info", "the harness station accepted a new Basic-auth password: using it for the rest of the run");
            }
            run.adopt_password(&id, pw);
        })));
        Ok(conn)
    }

    /// Boot as a charger does (B01): BootNotification until Accepted — a Pending station asks
    /// again after the interval it was given, within the lab's reboot time — then each EVSE
    /// reported Available.
    async fn boot(&self, conn: &Connection, d: &Dial<'_>) -> Result<(), SessionError> {
        let deadline = Instant::now() + Duration::from_millis(u64::from(d.timing.reboot_ms));
        loop {
            let answer = conn.call("BootNotification", boot_notification(d.version), d.response()).await?;
            let r = match answer {
                CallOutcome::Result(r) => r,
                CallOutcome::Error { code, description, .. } => return Err(SessionError::Protocol(format!("the CSMS answered the harness station's BootNotification with {code} ({description})"))),
            };
            match r["status"].as_str() {
                Some("Accepted") => break,
                Some("Pending") if Instant::now() < deadline => {
                    let wait = Duration::from_secs(r["interval"].as_u64().unwrap_or(1).max(1)).min(deadline - Instant::now());
                    d.trace.log("state", format!("the CSMS keeps the harness station Pending: it boots again in {} ms", wait.as_millis()));
                    tokio::time::sleep(wait).await;
                }
                _ => return Err(SessionError::Refused(format!("the CSMS did not accept the harness station's BootNotification: {r}"))),
            }
        }
        let now = ocpp_core::defaults::now_rfc3339();
        let first = if d.version == OcppVersion::V16 { 0 } else { 1 };
        for evse in first..=d.evses.max(1) {
            let status = if d.version == OcppVersion::V16 {
                json!({"connectorId": evse, "errorCode": "NoError", "status": "Available", "timestamp": now})
            } else {
                json!({"timestamp": now, "connectorStatus": "Available", "evseId": evse, "connectorId": 1})
            };
            conn.call("StatusNotification", status, d.response()).await?;
        }
        Ok(())
    }

    /// Make `conn` the live connection, with its heartbeat.
    fn keep(&self, conn: Connection, d: &Dial<'_>) -> Live {
        let heartbeat = heartbeat(conn.clone(), self.registration.clone(), self.talking.clone(), d.response());
        Live { conn, version: d.version, url: d.url.to_string(), profile: d.security.profile, heartbeat }
    }
}

/// Between cases, a Heartbeat at the interval the CSMS gave at the boot (G02); during a case
/// the case's own traffic is what the CSMS hears.
fn heartbeat(conn: Connection, reg: Arc<Registration>, talking: Arc<tokio::sync::Mutex<()>>, response: Duration) -> tokio::task::AbortHandle {
    tokio::spawn(async move {
        loop {
            // No interval yet (no accepted boot seen): look again later rather than flood.
            let every = match reg.interval_s.load(Ordering::Relaxed) {
                0 => None,
                s => Some(s),
            };
            tokio::time::sleep(Duration::from_secs(u64::from(every.unwrap_or(60)))).await;
            if conn.is_closed() {
                break;
            }
            if every.is_none() {
                continue;
            }
            let _quiet = talking.lock().await;
            if conn.mode() == Mode::Background {
                let _ = conn.call("Heartbeat", json!({}), response).await;
            }
        }
    })
    .abort_handle()
}

/// The harness station's BootNotification (reason PowerUp).
pub fn boot_notification(version: OcppVersion) -> Value {
    if version == OcppVersion::V16 {
        json!({"chargePointVendor": "ocpp-harness", "chargePointModel": "HarnessStation"})
    } else {
        json!({"reason": "PowerUp", "chargingStation": {"model": "HarnessStation", "vendorName": "ocpp-harness"}})
    }
}
