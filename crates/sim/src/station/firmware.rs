//! Firmware updates of the reference station, simulated: no file is fetched. 2.x secure update
//! (L01) and 1.6 SignedUpdateFirmware (security whitepaper) share the steps below; 1.6
//! UpdateFirmware is the unsigned subset (`update_16`).
//! The stand-ins a lab's real station would do for real:
//! - the signing certificate must be an X.509 PEM within its validity period (else
//!   InvalidCertificate and a security event InvalidFirmwareSigningCertificate);
//! - a location whose host cannot exist (`.invalid`) or whose path says `does.not` cannot be
//!   downloaded (DownloadFailed);
//! - the "firmware" is the location's text, so a valid signature is base64(SHA-256(location))
//!   (else InvalidSignature and a security event InvalidFirmwareSignature);
//! - a location whose path says `corrupt` fails the installation check
//!   (InstallVerificationFailed).
//!
//! The status notifications go one step at a time (`STEP` apart), downloads and installs wait
//! for retrieveDateTime and installDateTime, and the installation needs a reboot (boot reason
//! FirmwareUpdate); what comes after the reboot waits for the new registration.
use std::{collections::VecDeque, time::Duration};

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::{Out, Station};
use ocpp_core::defaults::now_rfc3339;
use crate::Fault;

/// Time between two steps of an update.
const STEP: Duration = Duration::from_millis(200);
/// How long a download takes.
const DOWNLOAD: Duration = Duration::from_millis(1_000);

#[derive(Debug)]
enum Step {
    Status(&'static str),
    Security(&'static str),
    /// Reboot into the new firmware; the steps after it wait for the new registration.
    Reboot,
}

pub(super) struct Job {
    pub(super) request_id: i64,
    /// 1.6 UpdateFirmware (unsigned): FirmwareStatusNotification without a request id.
    pub(super) plain: bool,
    steps: VecDeque<(Instant, Step)>,
    /// The last status reported (what a TriggerMessage gets).
    pub(super) last: Option<&'static str>,
}

/// A signature the reference station takes as valid for `location` (see the module's doc).
pub fn signature_for(location: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(location.as_bytes()))
}

fn valid_certificate(pem: &str) -> bool {
    let Ok((_, pem)) = x509_parser::pem::parse_x509_pem(pem.as_bytes()) else { return false };
    pem.parse_x509().is_ok_and(|c| c.validity().is_valid())
}

/// The download stand-in (see the module's doc): a host that cannot exist, or a path that
/// says `does.not`. A location that is no URL is tried (and, being text, "downloaded").
fn cannot_download(location: &str) -> bool {
    let host = reqwest::Url::parse(location).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
    host.ends_with(".invalid") || location.contains("does.not")
}

/// Seconds from now until an RFC 3339 time (0 if it is past or not a time).
pub(super) fn until(time: &Value) -> Duration {
    let Some(t) = time.as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) else { return Duration::ZERO };
    (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO)
}

/// UpdateFirmware: the answer; an accepted update's steps are scheduled.
pub(super) fn update(st: &mut Station, p: &Value) -> Value {
    let fw = &p["firmware"];
    let request_id = p["requestId"].as_i64().unwrap_or(0);
    let skip_checks = st.cfg.faults.has(&Fault::SkipFirmwareChecks);
    let (Some(certificate), Some(signature)) = (fw["signingCertificate"].as_str(), fw["signature"].as_str()) else {
        // Secure firmware update only: an unsigned image is not taken.
        return json!({"status": "Rejected"});
    };
    if !skip_checks && !valid_certificate(certificate) {
        security_event(st, "InvalidFirmwareSigningCertificate");
        return json!({"status": "InvalidCertificate"});
    }
    let location = fw["location"].as_str().unwrap_or_default().to_string();
    let mut steps = vec![];
    let mut at = Instant::now() + STEP;
    let mut push = |wait: Duration, step: Step| {
        at += wait.max(STEP);
        steps.push((at, step));
    };
    let retrieve = until(&fw["retrieveDateTime"]);
    if !retrieve.is_zero() {
        push(STEP, Step::Status("DownloadScheduled"));
    }
    push(retrieve, Step::Status("Downloading"));
    if cannot_download(&location) {
        push(STEP, Step::Status("DownloadFailed"));
    } else {
        push(DOWNLOAD, Step::Status("Downloaded"));
        if !skip_checks && signature != signature_for(&location) {
            push(STEP, Step::Status("InvalidSignature"));
            push(STEP, Step::Security("InvalidFirmwareSignature"));
        } else {
            push(STEP, Step::Status("SignatureVerified"));
            let install = until(&fw["installDateTime"]);
            if !install.is_zero() {
                push(STEP, Step::Status("InstallScheduled"));
            }
            push(install, Step::Status("InstallRebooting"));
            push(STEP, Step::Reboot);
            push(STEP, Step::Status("Installing"));
            if location.contains("corrupt") {
                push(STEP, Step::Status("InstallVerificationFailed"));
            } else {
                push(STEP, Step::Status("Installed"));
                push(STEP, Step::Security("FirmwareUpdated"));
            }
        }
    }
    st.firmware = Some(Job { request_id, plain: false, steps: steps.into(), last: None });
    json!({"status": "Accepted"})
}

/// 1.6 UpdateFirmware (§5.19, §4.5): the same stand-ins without signature checks, and the
/// 1.6 statuses: Downloading, Downloaded or DownloadFailed, Installing, the reboot, then
/// Installed or InstallationFailed. The answer has no fields.
pub(super) fn update_16(st: &mut Station, p: &Value) -> Value {
    let location = p["location"].as_str().unwrap_or_default().to_string();
    let mut at = Instant::now() + until(&p["retrieveDate"]);
    let mut steps = vec![];
    let mut push = |wait: Duration, step: Step| {
        at += wait.max(STEP);
        steps.push((at, step));
    };
    push(STEP, Step::Status("Downloading"));
    if cannot_download(&location) {
        push(STEP, Step::Status("DownloadFailed"));
    } else {
        push(DOWNLOAD, Step::Status("Downloaded"));
        push(STEP, Step::Status("Installing"));
        if location.contains("corrupt") {
            push(STEP, Step::Status("InstallationFailed"));
        } else {
            push(STEP, Step::Reboot);
            push(STEP, Step::Status("Installed"));
        }
    }
    st.firmware = Some(Job { request_id: 0, plain: true, steps: steps.into(), last: None });
    json!({})
}

/// Disturbance `firmware-update`: an update the station starts on its own, as a maintenance
/// job would (1.6 the plain notifications, 2.x with a request id of its own): downloaded,
/// then the installation fails, so there is no reboot. It replaces an update going on.
pub(super) fn own_update(st: &mut Station) {
    let mut at = Instant::now();
    let mut steps = vec![];
    for (wait, status) in [(Duration::ZERO, "Downloading"), (DOWNLOAD, "Downloaded"), (STEP, "Installing"), (STEP, "InstallationFailed")] {
        at += wait;
        steps.push((at, Step::Status(status)));
    }
    st.firmware = Some(Job { request_id: 9_003, plain: st.v16, steps: steps.into(), last: None });
}

/// A security event of `kind`, reported now (SecurityEventNotification).
pub(super) fn security_event(st: &mut Station, kind: &str) {
    st.enqueue(Out::call("SecurityEventNotification", json!({"type": kind, "timestamp": now_rfc3339()})));
}

/// The signed update's status now (2.x TriggerMessage, 1.6 ExtendedTriggerMessage): Idle, or
/// the last status of the update going on with its request.
pub(super) fn signed_status(st: &Station) -> Value {
    match st.firmware.as_ref().filter(|j| !j.plain).and_then(|j| j.last.map(|s| (s, j.request_id))) {
        Some((status, id)) => json!({"status": status, "requestId": id}),
        None => json!({"status": "Idle"}),
    }
}

/// When the next step is due (none while a reboot waits for the registration).
pub(super) fn next(st: &Station) -> Option<Instant> {
    st.firmware.as_ref().and_then(|j| j.steps.front()).map(|(at, _)| *at).filter(|_| st.booted)
}

/// Do the steps that are due; a reboot ends the connection (see `Station::reboot_for`).
pub(super) fn tick(st: &mut Station, now: Instant) {
    while st.booted && st.firmware.as_ref().and_then(|j| j.steps.front()).is_some_and(|(at, _)| *at <= now) {
        let job = st.firmware.as_mut().expect("checked");
        let (_, step) = job.steps.pop_front().expect("checked");
        let id = job.request_id;
        let plain = job.plain;
        if let Step::Status(s) = &step {
            job.last = Some(*s);
        }
        if job.steps.is_empty() {
            st.firmware = None;
        }
        match step {
            Step::Status(s) if plain => st.enqueue(Out::call("FirmwareStatusNotification", json!({"status": s}))),
            // 1.6 security whitepaper: the signed update has its own notification.
            Step::Status(s) if st.v16 => st.enqueue(Out::call("SignedFirmwareStatusNotification", json!({"status": s, "requestId": id}))),
            Step::Status(s) => st.enqueue(Out::call("FirmwareStatusNotification", json!({"status": s, "requestId": id}))),
            Step::Security(kind) => security_event(st, kind),
            Step::Reboot => {
                // The steps after the reboot restart their clock once registered again.
                if let Some(job) = st.firmware.as_mut() {
                    let mut at = Instant::now();
                    for (t, _) in job.steps.iter_mut() {
                        at += STEP;
                        *t = at;
                    }
                }
                st.reboot_for = Some("FirmwareUpdate");
                return;
            }
        }
    }
}
