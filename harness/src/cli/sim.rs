//! `sim station` / `sim csms`: the reference DUTs as processes of their own.
use std::process::ExitCode;

use ocpp_sim::Faults;
use super::args::*;

pub(crate) async fn sim(cmd: SimCommand) -> anyhow::Result<ExitCode> {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    match cmd {
        SimCommand::Station { csms_url, station_id, version, evses, faults, variants, control, security } => {
            let faults = Faults::new(faults);
            let sec = ocpp_sim::station::StationSecurity::for_run(&security.load(&station_id)?, &station_id, &faults)?;
            let mut cfg = ocpp_sim::station::StationConfig::new(csms_url, station_id, version);
            cfg.faults = faults;
            if let Some(v) = variants.iter().find(|v| !v.for_side(ocpp_sim::variant::Side::Station)) {
                anyhow::bail!("variant {v} is for the reference CSMS, not the station");
            }
            cfg.variants = variants;
            cfg.security = sec;
            if let Some(n) = evses {
                cfg.evses = n;
            }
            say!("reference station {} ({}) connecting to {}", cfg.station_id, version, cfg.csms_url);
            say!("{}", ocpp_sim::console::STATION_HELP);
            let (handle, task) = ocpp_sim::station::spawn(cfg);
            if let Some(addr) = control {
                let (bound, _server) = ocpp_sim::control::serve(addr, handle.clone()).await?;
                say!("control API on http://{bound}/ (plug, pilot, token, ev-fault, power-cycle, network, safe-state, meter, status)");
            }
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim().is_empty() {
                    continue;
                }
                match ocpp_sim::console::station_command(&line) {
                    Ok(input) => {
                        handle.send(input);
                    }
                    Err(e) => eprintln!("{e}"),
                }
            }
            // stdin closed (e.g. run in the background): keep running.
            task.await?;
        }
        SimCommand::Csms { listen, raised_listen, faults, variants, control, security } => {
            let faults = Faults::new(faults);
            let loaded = security.load("*")?;
            let mut sec = ocpp_sim::csms::CsmsSecurity::for_run(&loaded, "*", &faults)?;
            // Without the lab's PKI the CSMS still has a CA of its own to sign stations' CSRs
            // (A02), as a CSMS in service has.
            if sec.signer.is_none() {
                sec.signer = Some(std::sync::Arc::new(ocpp_core::security::pki::Pki::generate("*", &["localhost".into()])?));
            }
            if let Some(v) = variants.iter().find(|v| !v.for_side(ocpp_sim::variant::Side::Csms)) {
                anyhow::bail!("variant {v} is for the reference station, not the CSMS");
            }
            let cfg = ocpp_sim::csms::CsmsConfig { faults, security: sec, variants, raised_listen, ..Default::default() };
            let (addr, handle, task) = ocpp_sim::csms::start(listen, cfg).await?;
            say!("reference CSMS listening on {}://{addr}/<station id> (security profile {})", loaded.scheme(), loaded.profile);
            if let Some(up) = handle.raised_addr {
                say!("and on wss://{up}/<station id> at security profile {} (a station's move up, A05: parameter csms-url-profile-up = wss://{up}/ocpp)", loaded.profile + 1);
            }
            if let Some(c) = control {
                let (bound, _server) = ocpp_sim::control::serve_router(c, ocpp_sim::control::csms_router(handle.clone())).await?;
                say!("control API on http://{bound}/ (POST /stations/<id>/<action> with the payload, GET /stations)");
            }
            say!("{}", ocpp_sim::console::CSMS_HELP);
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim().is_empty() {
                    continue;
                }
                match ocpp_sim::console::csms_command(&line) {
                    Ok(ocpp_sim::console::CsmsCommand::Send { station, action, payload }) => match handle.send_call(&station, &action, payload) {
                        Ok(()) => say!("sent {action} to {station}"),
                        Err(e) => eprintln!("{e}"),
                    },
                    Ok(ocpp_sim::console::CsmsCommand::Stations) => say!("connected: {}", handle.connected().join(", ")),
                    Err(e) => eprintln!("{e}"),
                }
            }
            task.await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
