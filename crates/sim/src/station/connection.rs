//! The reference station's link to its CSMS: connect (profile, URL and back-off from its
//! connection slots), serve one WebSocket connection — our CALLs one at a time from the
//! outbox, the CSMS's CALLs answered by the dialect, time-outs and heartbeats — and come back
//! after a drop, a reboot or a power cycle. The model it drives is `Station` (mod.rs).
use std::{
    sync::Arc,
    time::Duration,
};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::{
    sync::mpsc,
    time::{Instant, sleep_until},
};
use tokio_tungstenite::tungstenite::Message;

use super::*;
use super::super::{Fault, answer, check_call, variant::{self, Variant}};
use ocpp_core::{frame::Frame, schema::Direction, transport::ws_config};

/// An answer held back by variant own-call-first.
pub(super) struct Deferred {
    id: String,
    action: String,
    reply: Reply,
    /// Whether the station's own CALL has gone out since.
    sent_own: bool,
}

/// Run the station until the task is aborted.
pub async fn run(cfg: StationConfig, inputs: mpsc::UnboundedReceiver<super::Input>) {
    run_reporting(cfg, inputs, Arc::default()).await
}

pub(super) async fn run_reporting(
    cfg: StationConfig,
    mut inputs: mpsc::UnboundedReceiver<super::Input>,
    panel: Arc<super::Panel>,
) {
    let mut st = Station::new(cfg);
    st.panel = panel;
    let mut backoff = st.cfg.reconnect_min;
    // Failed attempts since the last connection: the back-off doubles for as many of them as
    // RetryBackOffRepeatTimes allows (2.x; unbounded up to `reconnect_max` at 1.6), then stays.
    let mut failed: u64 = 0;
    loop {
        let ended = if st.network_up { st.connect_and_serve(&mut inputs).await } else { Err(anyhow::anyhow!("network down")) };
        st.online = false;
        // An unconfirmed transaction message is sent again on the next connection.
        if let Some(p) = st.pending.take().filter(|p| p.out.persistent) {
            st.outbox.push_front(p.out);
        }
        if !matches!(ended, Ok(Ended::Reconnect)) {
            st.outbox.retain(|o| o.persistent);
        }
        // A connection that worked resets the back-off; each failed attempt doubles it.
        let wait = match ended {
            Ok(end) => {
                match end {
                    Ended::Reboot => {
                        let reason = st.reboot_for.take().unwrap_or("RemoteReset");
                        st.reboot(reason)
                    }
                    Ended::PowerCycle => st.power_cycle(),
                    Ended::Dropped | Ended::Reconnect => {}
                }
                backoff = st.cfg.reconnect_min;
                failed = 0;
                st.slot_failures = 0;
                if st.cfg.variants.contains(&Variant::SlowReconnect) { variant::SLOW_RECONNECT } else { backoff }
            }
            Err(e) => {
                let wait = backoff;
                if st.network_up {
                    st.connection_failed();
                    tracing::info!(target: "sim", "{}: no connection to the CSMS ({e:#}); retrying in {} ms", st.cfg.station_id, wait.as_millis());
                }
                failed += 1;
                let repeat = st.settings.get("OCPPCommCtrlr.RetryBackOffRepeatTimes").and_then(|(v, _)| v.parse::<u64>().ok());
                if repeat.is_none_or(|r| failed <= r) {
                    backoff = (backoff * 2).min(st.cfg.reconnect_max);
                }
                wait
            }
        };
        // Back off before the next attempt, still living through physical events.
        let until = Instant::now() + wait;
        loop {
            tokio::select! {
                input = inputs.recv(), if !inputs.is_closed() || !inputs.is_empty() => {
                    if let Some(input) = input {
                        // What fell due offline happens before the network is back, even when
                        // this task ran late (a loaded machine) with both waiting: else a
                        // meter sample due offline is taken online, after the CSMS asked
                        // GetTransactionStatus (E14.FR.04).
                        if st.evse_timer().is_some_and(|t| t <= Instant::now()) {
                            st.on_tick();
                        }
                        if st.on_signal(input) == Some(Ended::PowerCycle) {
                            st.power_cycle();
                        }
                    }
                }
                // Time goes on offline: meter samples and time-outs (queued for later).
                _ = sleep_until(st.evse_timer().unwrap_or(until)), if st.evse_timer().is_some() => st.on_tick(),
                _ = sleep_until(until), if st.network_up => break,
                // Network down and nobody left to bring it back: stay offline.
                else => std::future::pending::<()>().await,
            }
        }
    }
}


impl Station {
    pub(super) async fn connect_and_serve(&mut self, inputs: &mut mpsc::UnboundedReceiver<super::Input>) -> anyhow::Result<Ended> {
        use ocpp_core::security::tls::{Dial, DialError, dial};
        let url = ocpp_core::transport::station_url(&self.csms_url(), &self.cfg.station_id);
        let offer = if self.cfg.faults.has(&Fault::WrongSubprotocol) { "ocpp1.5" } else { self.cfg.version.subprotocol() };
        // A slot above the profile in force connects with the raised set-up (A05.FR.05).
        let slots = self.priority();
        let slot = slots[self.slot_pos % slots.len()];
        let upgrade = self.slot_profile(slot) > self.cfg.security.profile && !self.cfg.faults.has(&Fault::IgnoreConnectionProfiles);
        let raised = self.cfg.security.raised.as_deref().filter(|_| upgrade).cloned();
        let sec = raised.as_ref().unwrap_or(&self.cfg.security);
        // Fault ignore-installed-roots: only the factory CA, whatever the CSMS installed.
        let roots: Vec<String> = if self.cfg.faults.has(&Fault::IgnoreInstalledRoots) { vec![] } else { self.csms_roots.iter().map(|(_, pem)| pem.clone()).collect() };
        let d = Dial { url, subprotocol: offer.into(), basic: sec.basic.clone(), tls: sec.tls_trusting(&roots), timeout: Duration::from_secs(10) };
        // Probing costs a handshake the CSMS sees fail, so only on reconnections.
        if self.cfg.faults.has(&Fault::AcceptOldTls) && self.booted {
            if let Some((host, port)) = ocpp_core::security::old_tls::wss_endpoint(&d.url) {
                if let Some(v) = ocpp_core::security::old_tls::go_on_with_old(&host, port).await {
                    anyhow::bail!("went on with {v} (fault accept-old-tls)");
                }
            }
        }
        let ws = match dial(&d, ws_config()).await {
            Ok(dialed) => dialed.ws,
            Err(DialError::OldTls(why)) => {
                // A00.FR.316: a critical event, reported once back on a good connection.
                if !self.v16 && !self.cfg.faults.has(&Fault::NoSecurityEvent) && !self.security_events.iter().any(|(t, _)| t == "InvalidTLSVersion") {
                    self.security_events.push(("InvalidTLSVersion".into(), why.chars().take(255).collect()));
                }
                anyhow::bail!("{why}");
            }
            Err(DialError::BadServerCertificate(why)) => {
                // Reported to the CSMS once a connection works (2.x security events).
                if !self.v16 && !self.cfg.faults.has(&Fault::NoSecurityEvent) {
                    self.security_events.push(("InvalidCsmsCertificate".into(), why.chars().take(255).collect()));
                }
                anyhow::bail!("{why}");
            }
            Err(e) => anyhow::bail!("{e}"),
        };
        let (mut stream, tx, writer) = crate::split(ws);
        self.online = true;
        if let Some(sec) = raised {
            self.upgraded(sec);
        }
        if self.cfg.faults.has(&Fault::SkipBoot) {
            // Behaves as if registered: talks without ever booting.
            self.booted = true;
        }
        if self.booted {
            self.report_all_status();
            self.next_heartbeat = self.heartbeat_after(Instant::now());
        } else {
            self.outbox.push_front(Out::call("BootNotification", self.boot_payload()));
            if self.may_talk() {
                self.report_all_status();
            }
        }
        for (kind, info) in std::mem::take(&mut self.security_events) {
            self.outbox.push_back(Out::call("SecurityEventNotification", serde_json::json!({"type": kind, "timestamp": ocpp_core::defaults::now_rfc3339(), "techInfo": info})));
        }
        let mut hostile_done = false;
        let mut deaf = false;
        self.deferred = None;
        loop {
            // Variant own-call-first: the held answer goes once the station's own CALL is answered.
            if self.deferred.as_ref().is_some_and(|d| d.sent_own && self.pending.is_none()) {
                let d = self.deferred.take().expect("checked");
                answer(&tx, &self.cfg.faults, self.cfg.version, &d.id, &d.action, d.reply);
            }
            self.send_next(&tx);
            if let Some(d) = self.deferred.as_mut() {
                d.sent_own |= self.pending.is_some();
                if !d.sent_own && self.outbox.is_empty() {
                    let d = self.deferred.take().expect("checked");
                    answer(&tx, &self.cfg.faults, self.cfg.version, &d.id, &d.action, d.reply);
                }
            }
            if std::mem::take(&mut self.drop_now) {
                return Ok(Ended::Dropped);
            }
            if self.reboot_for.is_some() && self.outbox.is_empty() && self.pending.is_none() {
                let_go(&writer, &mut stream).await;
                return Ok(Ended::Reboot);
            }
            if self.reset_when_idle && self.idle() && self.outbox.is_empty() && self.pending.is_none() && self.deferred.is_none() {
                let_go(&writer, &mut stream).await;
                return Ok(Ended::Reboot);
            }
            let wake = self.next_timer().unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                msg = stream.next(), if !deaf => {
                    let text = match msg {
                        Some(Ok(Message::Text(t))) => t.to_string(),
                        Some(Ok(Message::Close(_))) => {
                            // RFC 6455 §5.5.1: the Close is answered (by the next read) before the socket goes.
                            let _ = tokio::time::timeout(LINGER, async { while let Some(Ok(_)) = stream.next().await {} }).await;
                            return Ok(Ended::Dropped);
                        }
                        None | Some(Err(_)) => return Ok(Ended::Dropped),
                        Some(Ok(_)) => continue,
                    };
                    // A hostile station attacks when, registered, it is first asked something
                    // by the CSMS, before it answers: so the attack falls inside a case.
                    if let Some(h) = self.cfg.faults.hostile().filter(|_| !hostile_done && self.booted && text.trim_start().starts_with("[2")) {
                        hostile_done = true;
                        match crate::hostile::act(h, &tx) {
                            crate::hostile::After::Go => {}
                            crate::hostile::After::StopReading => {
                                deaf = true;
                                continue;
                            }
                            crate::hostile::After::Drop => {
                                let_go(&writer, &mut stream).await;
                                return Ok(Ended::Dropped);
                            }
                        }
                    }
                    if let Some(end) = self.on_frame(&text, &tx) {
                        let_go(&writer, &mut stream).await;
                        return Ok(end);
                    }
                }
                // Without a handle left, no more inputs come; the branch sleeps from then on.
                input = inputs.recv(), if !inputs.is_closed() || !inputs.is_empty() => {
                    if let Some(end) = input.and_then(|i| self.on_signal(i)) {
                        return Ok(end);
                    }
                }
                _ = sleep_until(wake) => self.on_timer(),
            }
        }
    }

    pub(super) fn heartbeat_after(&self, t: Instant) -> Option<Instant> {
        let s = self.setting_secs(Key::HeartbeatInterval);
        (self.booted && s > 0).then(|| t + Duration::from_secs(s))
    }

    pub(super) fn on_timer(&mut self) {
        let now = Instant::now();
        if self.retry_boot.is_some_and(|t| t <= now) {
            self.retry_boot = None;
            self.outbox.push_front(Out::call("BootNotification", self.boot_payload()));
        }
        if self.next_heartbeat.is_some_and(|t| t <= now) {
            self.next_heartbeat = self.heartbeat_after(now);
            self.enqueue(Out::call("Heartbeat", json!({})));
        }
        let timeout = self.message_timeout();
        if let Some(p) = self.pending.take_if(|p| p.sent + timeout <= now) {
            self.unanswered(p.out, true);
        }
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
        }
        self.on_tick();
    }

    pub(super) fn message_timeout(&self) -> Duration {
        match self.settings.get("OCPPCommCtrlr.MessageTimeout[Default]").and_then(|(v, _)| v.parse::<u64>().ok()) {
            Some(s) if !self.v16 && s > 0 => Duration::from_secs(s),
            _ => MESSAGE_TIMEOUT,
        }
    }

    /// A CALL got no CALLRESULT (a time-out or a CALLERROR). A transaction message is sent
    /// again after MessageAttemptInterval times the attempts so far, until MessageAttempts
    /// are used up; then it is dropped (E13.FR.01-04). Other messages are not retried.
    pub(super) fn unanswered(&mut self, out: Out, timed_out: bool) {
        if !out.persistent {
            return;
        }
        if self.v16 {
            // 1.6: sent again after a time-out, dropped after a CALLERROR.
            if timed_out {
                self.outbox.push_front(out);
            }
            return;
        }
        let setting = |k: &str, default: u32| self.settings.get(k).and_then(|(v, _)| v.parse::<u32>().ok()).unwrap_or(default);
        let max = setting("OCPPCommCtrlr.MessageAttempts[TransactionEvent]", 3);
        let interval = setting("OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]", 10);
        if out.attempts >= max && !self.cfg.faults.has(&Fault::RetryForever) {
            tracing::info!(target: "sim", "{}: {} given up after {} attempts", self.cfg.station_id, out.action, out.attempts);
            return;
        }
        let wait = if self.cfg.faults.has(&Fault::RetryForever) { 0 } else { interval * out.attempts };
        self.retry_at = Some(Instant::now() + Duration::from_secs(u64::from(wait)));
        self.outbox.push_front(out);
    }

    pub(super) fn boot_payload(&self) -> Value {
        if self.v16 { v16::boot(self) } else { v2x::boot(self) }
    }

    /// Send the next queued message if the registration state and the one-outstanding-CALL
    /// rule allow it.
    pub(super) fn send_next(&mut self, tx: &mpsc::UnboundedSender<Message>) {
        let pipeline = self.cfg.faults.has(&Fault::PipelineCalls);
        while (self.pending.is_none() || pipeline) && self.retry_at.is_none() {
            let talk = self.may_talk();
            // Before it is accepted: the boot, and the report a GetBaseReport / GetReport asked
            // for (B02.FR.02).
            let Some(pos) = self.outbox.iter().position(|o| talk || matches!(o.action.as_str(), "BootNotification" | "NotifyReport")) else { return };
            let mut out = self.outbox.remove(pos).expect("position is in range");
            out.attempts += 1;
            if self.v16 {
                v16::resolve_tx_id(self, &mut out.payload);
            }
            let id = self.next_msg_id.to_string();
            self.next_msg_id += 1;
            let mut payload = out.payload.clone();
            if let Some(o) = payload.as_object_mut() {
                o.retain(|k, _| !k.starts_with('$')); // bookkeeping, not part of the message
            }
            if self.cfg.variants.contains(&Variant::CustomData) && !self.v16 {
                payload["customData"] = json!({"vendorId": "org.ocpp-harness.variant"});
            }
            self.cfg.faults.alter(self.cfg.version, &out.action, Direction::Request, &mut payload);
            let frame = if out.send_frame {
                Frame::Send { id: id.clone(), action: out.action.clone(), payload }
            } else {
                Frame::Call { id: id.clone(), action: out.action.clone(), payload }
            };
            let text = frame.to_text();
            tracing::info!(target: "sim", "{} -> CSMS {text}", self.cfg.station_id);
            let _ = tx.send(Message::text(text));
            if !out.send_frame {
                self.pending = Some(Pending { id, out, sent: Instant::now() });
            }
        }
    }

    /// Handle one frame from the CSMS; Some when the connection must end.
    pub(super) fn on_frame(&mut self, text: &str, tx: &mpsc::UnboundedSender<Message>) -> Option<Ended> {
        tracing::info!(target: "sim", "{} <- CSMS {text}", self.cfg.station_id);
        let v = self.cfg.version;
        let frame = match Frame::parse(text, v) {
            Ok(f) => f,
            Err(e) => {
                let id = e.id.unwrap_or_else(|| "-1".into());
                let f = self.cfg.faults.call_error(id, e.kind.error_code(v), e.reason, self.cfg.faults.wrong_value(""));
                let _ = tx.send(Message::text(f.to_text()));
                return None;
            }
        };
        match frame {
            Frame::CallResult { id, payload } => {
                let p = self.pending.take_if(|p| p.id == id)?;
                if let Err(e) = ocpp_core::schema::validate(v, &p.out.action, Direction::Response, &payload) {
                    // 2.1 tells the CSMS its answer was unusable.
                    if v == OcppVersion::V21 {
                        let f = Frame::CallResultError { id, code: "FormatViolation".into(), description: e.to_string(), details: json!({}) };
                        let _ = tx.send(Message::text(f.to_text()));
                    }
                    if p.out.persistent {
                        self.outbox.push_front(p.out);
                    }
                    return None;
                }
                self.on_result(&p.out, &payload);
                None
            }
            Frame::CallError { id, .. } => {
                if let Some(p) = self.pending.take_if(|p| p.id == id) {
                    self.unanswered(p.out, false);
                }
                None
            }
            Frame::CallResultError { .. } | Frame::Send { .. } => None,
            Frame::Call { id, action, payload } => {
                if let Err(e) = check_call(v, &action, &payload) {
                    answer(tx, &self.cfg.faults, v, &id, &action, Err(e));
                    return None;
                }
                // B03.FR.08: rejected, the station takes no orders from the CSMS.
                if self.boot_rejected && !self.may_talk() && !self.v16 {
                    answer(tx, &self.cfg.faults, v, &id, &action, Err(("SecurityError", "the CSMS rejected this station's registration".into())));
                    return None;
                }
                let (mut reply, end) = if self.v16 { v16::on_call(self, &action, &payload) } else { v2x::on_call(self, &action, &payload) };
                let has = |x: Variant| self.cfg.variants.contains(&x);
                if has(Variant::CustomData) && !self.v16 {
                    if let Ok(Value::Object(o)) = &mut reply {
                        o.insert("customData".into(), json!({"vendorId": "org.ocpp-harness.variant"}));
                    }
                }
                // F06.FR.04: a triggered message only ever follows the TriggerMessage answer.
                let trigger = action == "TriggerMessage" || action == "ExtendedTriggerMessage";
                let own_call_waiting = !trigger && self.pending.is_none() && self.deferred.is_none() && !self.outbox.is_empty() && self.may_talk();
                if end.is_none() && has(Variant::OwnCallFirst) && own_call_waiting {
                    tracing::info!(target: "sim", "{}: answering {action} after its own CALL (variant own-call-first)", self.cfg.station_id);
                    self.deferred = Some(Deferred { id, action, reply, sent_own: false });
                } else if end.is_none() && !trigger && action != "Reset" && has(Variant::SlowAnswers) {
                    let (tx, faults) = (tx.clone(), self.cfg.faults.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(variant::SLOW_ANSWER).await;
                        answer(&tx, &faults, v, &id, &action, reply);
                    });
                } else {
                    answer(tx, &self.cfg.faults, v, &id, &action, reply);
                }
                end
            }
        }
    }

    /// The CSMS answered one of our CALLs.
    pub(super) fn on_result(&mut self, out: &Out, r: &Value) {
        let started = out.action == "StartTransaction" || (out.action == "TransactionEvent" && out.payload["eventType"] == "Started");
        if started && self.cfg.faults.has(&Fault::DropMidTransaction) {
            self.drop_now = true;
        }
        match out.action.as_str() {
            "BootNotification" => {
                let ignore = self.cfg.faults.has(&Fault::IgnoreInterval);
                let interval = if ignore { 0 } else { r["interval"].as_u64().unwrap_or(0) };
                self.boot_rejected = r["status"] == "Rejected";
                if r["status"] == "Accepted" {
                    let was_booted = self.booted;
                    self.booted = true;
                    self.panel.set_booted(true);
                    self.panel.registered((self.born.elapsed().as_micros() as u64).max(1));
                    self.retry_boot = None;
                    if interval > 0 {
                        self.set(Key::HeartbeatInterval, interval.to_string());
                    }
                    self.next_heartbeat = self.heartbeat_after(Instant::now());
                    if !was_booted {
                        // A start is a critical security event (part 2 appendix: StartupOfTheDevice,
                        // ResetOrReboot after a reset), sent to the CSMS (A04.FR.01) — first, so
                        // that it is answered by the time the connectors are reported.
                        if !self.v16 && !self.cfg.faults.has(&Fault::NoSecurityEvent) {
                            let kind = if matches!(self.boot_reason, "RemoteReset" | "ScheduledReset") { "ResetOrReboot" } else { "StartupOfTheDevice" };
                            super::firmware::security_event(self, kind);
                        }
                        self.report_all_status();
                    }
                } else {
                    let wait = if ignore { 1 } else if interval > 0 { interval } else { 10 };
                    self.retry_boot = Some(Instant::now() + Duration::from_secs(wait));
                }
            }
            "Authorize" => {
                let (token, status) = if self.v16 {
                    (out.payload["idTag"].as_str(), r["idTagInfo"]["status"].as_str())
                } else {
                    (out.payload["idToken"]["idToken"].as_str(), r["idTokenInfo"]["status"].as_str())
                };
                let (Some(token), Some(status)) = (token.map(str::to_string), status) else { return };
                if self.enabled(Key::CacheEnabled) {
                    self.auth_cache.insert(token.clone(), status.to_string());
                }
                match r["idTokenInfo"]["groupIdToken"]["idToken"].as_str() {
                    Some(group) => self.groups.insert(token.clone(), group.to_string()),
                    None => self.groups.remove(&token),
                };
                let remote = out.payload["$remote"].as_array().and_then(|r| Some((r.first()?.as_u64()? as u32, r.get(1)?.as_i64()?)));
                self.on_authorized(&token, status, remote);
            }
            _ if self.v16 => v16::on_result(self, out, r),
            _ => v2x::on_result(self, out, r),
        }
    }
}

/// How long a station that drops its connection keeps reading what is still arriving.
const LINGER: Duration = Duration::from_millis(20);

/// Drop the connection the way a device does without leaving its peer a reset: everything
/// queued is written first, then what is still on its way in is read and discarded for a
/// moment (a socket closed over unread data sends a TCP reset, and a reset makes the peer lose
/// what it had received but not yet read).
async fn let_go<S, E>(writer: &crate::Writer, stream: &mut S)
where
    S: futures_util::Stream<Item = Result<Message, E>> + Unpin,
{
    writer.flushed(crate::FLUSH_WITHIN).await;
    let _ = tokio::time::timeout(LINGER, async { while let Some(Ok(_)) = stream.next().await {} }).await;
}
