//! Block A, security profiles, in both roles at 2.0.1 and 2.1: HTTP Basic authentication
//! (profiles 1 and 2), TLS with the CSMS certificate (2 and 3) and client certificates (3).
//! Each case runs at the profiles it is about and skips at the others, so one catalogue serves
//! a run at any profile. Bad credentials and certificates come from the host (WIT
//! `credentials`, `certificate`): the guest never sees a password or a key.
use serde_json::json;

use crate::{
    Case,
    kit::{self, Certificate, Credentials, OcppVersion, Role, Step, at},
    msg,
};

const CSMS: Role = Role::Csms;
const CS: Role = Role::ChargingStation;
const V2X: &[OcppVersion] = &[OcppVersion::V201, OcppVersion::V21];

pub(crate) fn cases() -> Vec<Case> {
    vec![
        // The DUT is a CSMS.
        Case {
            id: "TC_A_01_CSMS",
            title: "Basic authentication with the station id and its password is accepted",
            role: CS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00.FR.204", "B01.FR.02"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_a_01_csms,
        },
        Case {
            id: "TC_A_02_CSMS",
            title: "Basic authentication with a user name other than the station id is refused",
            role: CS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00.FR.204"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_a_02_csms,
        },
        Case {
            id: "TC_A_03_CSMS",
            title: "Basic authentication with a wrong password is refused",
            role: CS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00.FR.204"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_a_03_csms,
        },
        Case {
            id: "OH_A_01_CSMS",
            title: "A connection without Basic credentials is refused at profiles 1 and 2",
            role: CS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00.FR.204"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_a_01_csms,
        },
        Case {
            id: "TC_A_09_CSMS",
            title: "The CSMS sets a new Basic-auth password; once Accepted the station connects with it",
            role: CS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A01.FR.02", "A01.FR.03"],
            needs: &["csms-trigger"],
            timeout_ms: 40_000,
            run: tc_a_09_csms,
        },
        Case {
            id: "TC_A_10_CSMS",
            title: "The CSMS sets a new Basic-auth password; once Rejected the station still connects with the old one",
            role: CS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A01.FR.02", "A01.FR.04", "A01.FR.05"],
            needs: &["csms-trigger"],
            timeout_ms: 40_000,
            run: tc_a_10_csms,
        },
        Case {
            id: "TC_A_04_CSMS",
            title: "TLS with the CSMS certificate: version 1.2 or later, then registration",
            role: CS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00.FR.306", "A00.FR.307", "A00.FR.312", "B01.FR.02"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_a_04_csms,
        },
        Case {
            id: "TC_A_06_CSMS",
            title: "TLS - server-side certificate - TLS version too low: the CSMS ends a TLS 1.1 handshake, then takes TLS 1.2",
            role: CS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00.FR.314", "A00.FR.315", "A00.FR.418", "B01.FR.02"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_a_06_csms,
        },
        Case {
            id: "TC_A_07_CSMS",
            title: "A valid client certificate naming the station is accepted",
            role: CS,
            versions: V2X,
            profile: "advanced-security",
            features: &[],
            requirements: &["A00.FR.409", "A00.FR.410", "A00.FR.415", "B01.FR.02"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_a_07_csms,
        },
        Case {
            id: "TC_A_08_CSMS",
            title: "A client certificate from an unknown CA is refused; the valid one is then accepted and the station registers",
            role: CS,
            versions: V2X,
            profile: "advanced-security",
            features: &[],
            requirements: &["A00.FR.405", "A00.FR.407", "A00.FR.409", "A00.FR.410", "B01.FR.02"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_a_08_csms,
        },
        Case {
            id: "OH_A_02_CSMS",
            title: "A client certificate from an unknown CA is refused",
            role: CS,
            versions: V2X,
            profile: "advanced-security",
            features: &[],
            requirements: &["A00.FR.409"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_a_02_csms,
        },
        Case {
            id: "OH_A_03_CSMS",
            title: "An expired client certificate is refused",
            role: CS,
            versions: V2X,
            profile: "advanced-security",
            features: &[],
            requirements: &["A00.FR.409"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_a_03_csms,
        },
        Case {
            id: "OH_A_04_CSMS",
            title: "A client certificate naming another station is refused",
            role: CS,
            versions: V2X,
            profile: "advanced-security",
            features: &[],
            requirements: &["A00.FR.409"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_a_04_csms,
        },
        Case {
            id: "OH_A_05_CSMS",
            title: "A connection without a client certificate is refused at profile 3",
            role: CS,
            versions: V2X,
            profile: "advanced-security",
            features: &[],
            requirements: &["A00.FR.409"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_a_05_csms,
        },
        // The DUT is a charging station.
        Case {
            id: "TC_A_01_CS",
            title: "The station authenticates with Basic auth as its own id",
            role: CSMS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00.FR.202", "A00.FR.204", "B01.FR.01", "B01.FR.05", "B01.FR.09"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_a_01_cs,
        },
        Case {
            id: "TC_A_04_CS",
            title: "The station connects over TLS 1.2 or later to the CSMS certificate it trusts",
            role: CSMS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00.FR.306", "A00.FR.312"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_a_04_cs,
        },
        Case {
            id: "TC_A_05_CS",
            title: "The station refuses a CSMS certificate from an unknown CA and reports it once back",
            role: CSMS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00", "A04"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_a_05_cs,
        },
        Case {
            id: "TC_A_06_CS",
            title: "The station ends a handshake in which the CSMS chose TLS 1.1, then connects with TLS 1.2 or later",
            role: CSMS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00.FR.314", "A00.FR.316", "A00.FR.417"],
            needs: &[],
            timeout_ms: 40_000,
            run: tc_a_06_cs,
        },
        Case {
            id: "OH_A_01_CS",
            title: "The station refuses an expired CSMS certificate",
            role: CSMS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00"],
            needs: &[],
            timeout_ms: 30_000,
            run: oh_a_01_cs,
        },
        Case {
            id: "OH_A_02_CS",
            title: "The station refuses a CSMS certificate issued for another host",
            role: CSMS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A00"],
            needs: &[],
            timeout_ms: 30_000,
            run: oh_a_02_cs,
        },
        Case {
            id: "TC_A_09_CS",
            title: "A new Basic-auth password is Accepted and the station reconnects with it",
            role: CSMS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A01.FR.02", "A01.FR.03", "A01.FR.01", "A01.FR.11", "A01.FR.12", "B01.FR.01"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_a_09_cs,
        },
        Case {
            id: "TC_A_10_CS",
            title: "A Basic-auth password shorter than 16 characters is Rejected and the station reconnects with its old one",
            role: CSMS,
            versions: V2X,
            profile: "core",
            features: &[],
            requirements: &["A01.FR.01", "A01.FR.11", "A01.FR.12", "A00.FR.205"],
            needs: &[],
            timeout_ms: 30_000,
            run: tc_a_10_cs,
        },
        Case {
            id: "OH_M_03_CS",
            title: "Text that is no certificate is not installed",
            role: CSMS,
            versions: V2X,
            profile: "advanced-security",
            features: &[],
            requirements: &["M05"],
            needs: &[],
            timeout_ms: 20_000,
            run: oh_m_03_cs,
        },
        Case {
            id: "TC_A_07_CS",
            title: "The station presents a client certificate naming itself",
            role: CSMS,
            versions: V2X,
            profile: "advanced-security",
            features: &[],
            requirements: &["A00.FR.401", "A00.FR.415"],
            needs: &[],
            timeout_ms: 20_000,
            run: tc_a_07_cs,
        },
    ]
}

fn boot(conn: &kit::Connection, req: &str) -> Step {
    let payload = ocpp_case_sdk::msg::boot_notification(kit::OcppVersion::V201, "PowerUp");
    let r = kit::call(conn, req, "BootNotification", payload, 10_000)?;
    kit::check(r["status"] == "Accepted", req, "registration status Accepted", || r.to_string())
}

/// Reusable state Booted: the boot is Accepted (`boot_req`) and connector 1 reported
/// Available (`req`).
fn booted_available(conn: &kit::Connection, boot_req: &str, req: &str) -> Step {
    boot(conn, boot_req)?;
    let status = json!({"timestamp": kit::now(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1});
    kit::call(conn, req, "StatusNotification", status, 10_000).map(drop)
}

fn tls_version_ok(req: &str, s: &kit::session::PeerSecurity) -> Step {
    let v = s.tls_version.clone().unwrap_or_default();
    kit::check(v == "TLSv1_2" || v == "TLSv1_3", req, "TLS 1.2 or later", || format!("{:?}", s.tls_version))
}

fn tc_a_01_csms() -> Step {
    kit::security_profiles(&[1, 2])?;
    let conn = kit::connect_presenting(Credentials::Configured, Certificate::Configured)?
        .map_err(|e| kit::fail("A00.FR.204", "the CSMS to accept the station's Basic credentials", format!("{e:?}")))?;
    boot(&conn, "B01.FR.02")
}

fn refused(req: &str, credentials: Credentials, certificate: Certificate, expected: &str) -> Step {
    let r = kit::connect_presenting(credentials, certificate)?;
    kit::expect_refused(req, expected, r)
}

fn tc_a_02_csms() -> Step {
    kit::security_profiles(&[1, 2])?;
    refused("A00.FR.204", Credentials::WrongUsername, Certificate::Configured, "the CSMS to refuse a Basic user name that is not the station id")
}

fn tc_a_03_csms() -> Step {
    kit::security_profiles(&[1, 2])?;
    refused("A00.FR.204", Credentials::WrongPassword, Certificate::Configured, "the CSMS to refuse a wrong password")
}

fn oh_a_01_csms() -> Step {
    kit::security_profiles(&[1, 2])?;
    refused("A00.FR.204", Credentials::None, Certificate::Configured, "the CSMS to refuse a station without Basic credentials")
}

/// TC_A_09/10_CSMS (part 6 tables for A01): the operator has the CSMS set a new password
/// (step 1), the station answers `status` (step 2), closes and connects again (step 3). The
/// host's station presents the password in force: the new one once it answered Accepted, the
/// old one otherwise. Steps 4-8: the CSMS lets it in and registers it (Booted).
fn password_update(status: &str, req: &str) -> Step {
    kit::security_profiles(&[1, 2])?;
    let conn = kit::connect_csms("A01")?;
    boot(&conn, "B01.FR.02")?;
    kit::csms_trigger(&conn, "SetVariables", msg::set_variables("SecurityCtrlr", "BasicAuthPassword", &kit::fresh_password()))?;
    let call = kit::expect(&conn, "A01.FR.02", "SetVariables", 15_000)?;
    let data = call.payload["setVariableData"].as_array().cloned().unwrap_or_default();
    let sets_password = |d: &serde_json::Value| d["component"]["name"] == "SecurityCtrlr" && d["variable"]["name"] == "BasicAuthPassword";
    kit::check(data.iter().any(sets_password), "A01.FR.02", "SetVariables for SecurityCtrlr.BasicAuthPassword", || call.payload.to_string())?;
    let results: Vec<_> = data.iter().map(|d| json!({"attributeStatus": if sets_password(d) { status } else { "Accepted" }, "component": d["component"], "variable": d["variable"]})).collect();
    kit::reply(&conn, "A01.FR.02", &call, "SetVariables", json!({"setVariableResult": results}))?;
    conn.close();
    let which = if status == "Accepted" { "new" } else { "old" };
    let again = kit::connect_presenting(Credentials::Configured, Certificate::Configured)?
        .map_err(|e| kit::fail(req, format!("the CSMS to let the station in with its {which} password"), format!("{e:?}")))?;
    booted_available(&again, req, req)
}

fn tc_a_09_csms() -> Step {
    password_update("Accepted", "A01.FR.03")
}

fn tc_a_10_csms() -> Step {
    password_update("Rejected", "A01.FR.04")
}

fn tc_a_04_csms() -> Step {
    kit::security_profiles(&[2, 3])?;
    let conn = kit::connect_csms("A00.FR.306")?;
    tls_version_ok("A00.FR.312", &conn.security())?;
    booted_available(&conn, "B01.FR.02", "B01")
}

/// TC_A_06_CSMS (part 6): a ClientHello offering TLS 1.0, then one offering 1.1, must each
/// end without a ServerHello (steps 1-2); then the station connects with TLS 1.2 or later and
/// registers (steps 3-12).
fn tc_a_06_csms() -> Step {
    kit::security_profiles(&[2, 3])?;
    for version in ["1.0", "1.1"] {
        match kit::offer_old_tls("A00.FR.315", version, 10_000)? {
            kit::session::TlsAnswer::Refused(_) => {}
            answer => {
                let observed = match answer {
                    kit::session::TlsAnswer::ServerHello(v) => format!("a ServerHello choosing {v}"),
                    _ => "neither an answer nor a close within 10 s".into(),
                };
                return Err(kit::fail("A00.FR.315", format!("the CSMS to end a handshake offering at most TLS {version}"), observed));
            }
        }
    }
    let conn = kit::connect_csms("A00.FR.314")?;
    tls_version_ok("A00.FR.314", &conn.security())?;
    booted_available(&conn, "B01.FR.02", "B01")
}

fn tc_a_07_csms() -> Step {
    kit::security_profiles(&[3])?;
    let conn = kit::connect_csms("A00.FR.409")?;
    tls_version_ok("A00.FR.415", &conn.security())?;
    booted_available(&conn, "B01.FR.02", "B01")
}

/// TC_A_08_CSMS (part 6): steps 1-4 a client certificate the CSMS's CA did not issue, the
/// handshake ended; steps 5-14 the configured one, a secured WebSocket, Booted.
fn tc_a_08_csms() -> Step {
    kit::security_profiles(&[3])?;
    refused("A00.FR.409", Credentials::Configured, Certificate::Untrusted, "the CSMS to refuse a client certificate from a CA it does not trust")?;
    let conn = kit::connect_csms("A00.FR.410")?;
    tls_version_ok("A00.FR.410", &conn.security())?;
    booted_available(&conn, "B01.FR.02", "B01")
}

fn oh_a_02_csms() -> Step {
    kit::security_profiles(&[3])?;
    refused("A00.FR.409", Credentials::Configured, Certificate::Untrusted, "the CSMS to refuse a client certificate from a CA it does not trust")
}

fn oh_a_03_csms() -> Step {
    kit::security_profiles(&[3])?;
    refused("A00.FR.409", Credentials::Configured, Certificate::Expired, "the CSMS to refuse an expired client certificate")
}

fn oh_a_04_csms() -> Step {
    kit::security_profiles(&[3])?;
    refused("A00.FR.409", Credentials::Configured, Certificate::WrongIdentity, "the CSMS to refuse a client certificate whose CN is another station")
}

fn oh_a_05_csms() -> Step {
    kit::security_profiles(&[3])?;
    refused("A00.FR.409", Credentials::Configured, Certificate::None, "the CSMS to refuse a TLS connection without a client certificate")
}

/// The station's live, registered connection (its handshake passed the security checks).
fn accepted_and_booted(_req: &str) -> Step<kit::Connection> {
    kit::ready_station(&[])
}

fn tc_a_01_cs() -> Step {
    kit::security_profiles(&[1, 2])?;
    // The host has already checked the password (and refused the station otherwise).
    let conn = accepted_and_booted("A00.FR.202")?;
    let s = conn.security();
    let id = kit::config::station_id();
    kit::check(s.basic_auth_user.as_deref() == Some(id.as_str()), "A00.FR.204", format!("Basic user {id:?}"), || format!("{:?}", s.basic_auth_user))
}

fn tc_a_04_cs() -> Step {
    kit::security_profiles(&[2, 3])?;
    let conn = accepted_and_booted("A00.FR.306")?;
    tls_version_ok("A00.FR.312", &conn.security())
}

fn tc_a_07_cs() -> Step {
    kit::security_profiles(&[3])?;
    let conn = accepted_and_booted("A00.FR.415")?;
    let s = conn.security();
    let id = kit::config::station_id();
    kit::check(s.peer_certificate_cn.as_deref() == Some(id.as_str()), "A00.FR.401", format!("a client certificate with CN {id:?}"), || {
        format!("CN {:?}", s.peer_certificate_cn)
    })
}

fn set_password(conn: &kit::Connection, req: &str, password: &str) -> Step<String> {
    let r = kit::call(conn, req, "SetVariables", msg::set_variables("SecurityCtrlr", "BasicAuthPassword", password), 10_000)?;
    Ok(at(&r, "/setVariableResult/0/attributeStatus").as_str().unwrap_or_default().to_string())
}

fn tc_a_09_cs() -> Step {
    kit::security_profiles(&[1, 2])?;
    let conn = accepted_and_booted("A01")?;
    let password = kit::fresh_password();
    let status = set_password(&conn, "A01.FR.02", &password)?;
    kit::check(status == "Accepted", "A01.FR.03", "attributeStatus Accepted for the new password", || format!("attributeStatus {status}"))?;
    // The station uses the new password on its next connection; the host now expects it and
    // refuses the old one. Close, in case the station would wait for us to.
    let _ = conn.expect_close(3_000);
    conn.close();
    let again = kit::accept_station("A01", 15_000, &[])?;
    let id = kit::config::station_id();
    kit::check(again.security().basic_auth_user.as_deref() == Some(id.as_str()), "A01", format!("Basic user {id:?} with the new password"), || {
        format!("{:?}", again.security().basic_auth_user)
    })
}

fn tc_a_10_cs() -> Step {
    kit::security_profiles(&[1, 2])?;
    let conn = accepted_and_booted("A01")?;
    let status = set_password(&conn, "A01.FR.11", "short-pw-12")?;
    kit::check(status == "Rejected", "A01.FR.11", "attributeStatus Rejected for a password of 11 characters", || {
        format!("attributeStatus {status}")
    })?;
    // The old password still opens the door: the host takes only the configured one.
    conn.close();
    let again = kit::accept_station("A01.FR.12", 15_000, &[])?;
    let id = kit::config::station_id();
    kit::check(
        again.security().basic_auth_user.as_deref() == Some(id.as_str()),
        "A01.FR.12",
        format!("Basic user {id:?} with the old password"),
        || format!("{:?}", again.security().basic_auth_user),
    )
}

fn oh_m_03_cs() -> Step {
    let conn = accepted_and_booted("M05")?;
    let garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    let r = kit::call(&conn, "M05", "InstallCertificate", json!({"certificateType": "CSMSRootCertificate", "certificate": garbage}), 10_000)?;
    kit::check(r["status"] != "Accepted", "M05", "Rejected or Failed for text that is no certificate", || r.to_string())
}

/// Show the registered station a bad certificate on its next connection: it must break the
/// TLS handshake off. Returns once it has, with the configured certificate back in place.
fn station_refuses(bad: Certificate, expected: &str) -> Step {
    let conn = accepted_and_booted("A00")?;
    kit::serve_certificate(bad)?;
    conn.close();
    match kit::session::accept_station(15_000, &[]) {
        Err(kit::SessionError::Refused(m)) => kit::info(format!("the station refused: {m}")),
        Ok(c) => {
            let s = c.security();
            return Err(kit::fail("A00", expected, format!("the station completed the TLS handshake ({:?}) and upgraded", s.tls_version)));
        }
        Err(e) => return Err(kit::fail("A00", expected, format!("{e:?}"))),
    }
    kit::serve_certificate(Certificate::Configured)
}

fn tc_a_05_cs() -> Step {
    kit::security_profiles(&[2, 3])?;
    station_refuses(Certificate::Untrusted, "the station to refuse a CSMS certificate from a CA it does not trust")?;
    let conn = kit::accept_station_past_refusals("A00", 20_000, &["SecurityEventNotification"])?;
    let ev = kit::expect_and_reply(&conn, "A04", "SecurityEventNotification", 10_000, json!({}))?;
    kit::check(at(&ev, "/type") == "InvalidCsmsCertificate", "A04", "a security event of type InvalidCsmsCertificate", || ev.to_string())
}

/// TC_A_06_CS (part 6): the CSMS side chooses TLS 1.1 in its ServerHello (steps 1-2); the
/// station must end the handshake (step 3), and connect again with TLS 1.2 or later once the
/// CSMS offers it (steps 4-9). Part 6 has the station start over with a reboot; here it
/// reconnects after the CSMS dropped it, as in TC_A_05_CS. Its InvalidTLSVersion event is
/// optional (steps 16-17) and only logged.
fn tc_a_06_cs() -> Step {
    kit::security_profiles(&[2, 3])?;
    let conn = accepted_and_booted("A00")?;
    kit::serve_old_tls("1.1")?;
    conn.close();
    let outcome = kit::session::accept_station(15_000, &[]);
    kit::serve_certificate(Certificate::Configured)?;
    match outcome {
        Err(kit::SessionError::Refused(m)) => kit::info(format!("the station refused TLS 1.1: {m}")),
        Ok(_) => return Err(kit::fail("A00.FR.316", "the station to end a TLS 1.1 handshake", "a connection")),
        Err(e) => return Err(kit::fail("A00.FR.316", "the station to end a TLS 1.1 handshake", format!("{e:?}"))),
    }
    let conn = kit::accept_station_past_refusals("A00.FR.314", 20_000, &["SecurityEventNotification"])?;
    tls_version_ok("A00.FR.417", &conn.security())?;
    // Part 6 step 16, A00.FR.316: the refused TLS 1.1 is a critical security event, queued
    // and sent once connected (a start-up event may come first, step 14).
    let mut seen = vec![];
    for _ in 0..4 {
        let ev = kit::expect_and_reply(&conn, "A00.FR.316", "SecurityEventNotification", 10_000, json!({}))?;
        let kind = at(&ev, "/type").as_str().unwrap_or_default().to_string();
        if kind == "InvalidTLSVersion" {
            return Ok(());
        }
        seen.push(kind);
    }
    Err(kit::fail("A00.FR.316", "a SecurityEventNotification InvalidTLSVersion", format!("only {}", seen.join(", "))))
}

fn oh_a_01_cs() -> Step {
    kit::security_profiles(&[2, 3])?;
    station_refuses(Certificate::Expired, "the station to refuse an expired CSMS certificate")?;
    kit::accept_station_past_refusals("A00", 20_000, &[]).map(drop)
}

fn oh_a_02_cs() -> Step {
    kit::security_profiles(&[2, 3])?;
    station_refuses(Certificate::WrongIdentity, "the station to refuse a CSMS certificate for another host")?;
    kit::accept_station_past_refusals("A00", 20_000, &[]).map(drop)
}
