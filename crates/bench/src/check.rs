//! `bench check`: before a long unattended run, touch every capability the bench description
//! configures — without changing the DUT's state where that is possible — and say per
//! capability which driver serves it, what device answered, how long it took, and whether it
//! works. Meters are read, relay boards read back, SCPI instruments identified (`*IDN?`) with
//! their error queue empty, GPIO chips opened and their inputs read, and command and HTTP
//! drivers run their declared probe.
use std::time::{Duration, Instant};

use crate::{
    BoardOp, board_lines, command,
    config::{BenchConfig, CommandSpec, DriverConfig},
    gpio, http, modbus, on_board, operator, scpi,
};

/// What the check found for one capability.
#[derive(Debug, Clone)]
pub struct Checked {
    pub capability: String,
    pub driver: &'static str,
    /// The device as the driver names it (or as it names itself: `*IDN?`, the chip label).
    pub device: String,
    pub latency: Duration,
    /// Ok: what was seen; Err: why the capability does not work.
    pub outcome: Result<String, String>,
}

impl Checked {
    pub fn ok(&self) -> bool {
        self.outcome.is_ok()
    }

    /// One line of the report.
    pub fn line(&self) -> String {
        let outcome = match &self.outcome {
            Ok(seen) => format!("ok: {seen}"),
            Err(e) => format!("FAILED: {e}"),
        };
        format!("{:<14} {:<14} {:>6} ms  {}  {outcome}", self.capability, self.driver, self.latency.as_millis(), self.device)
    }
}

/// Check every configured capability, in name order.
pub async fn check(config: &BenchConfig) -> Vec<Checked> {
    let mut out = Vec::new();
    for (capability, driver) in &config.capabilities {
        let started = Instant::now();
        let (device, outcome) = probe(capability, driver).await;
        out.push(Checked { capability: capability.clone(), driver: driver.name(), device, latency: started.elapsed(), outcome });
    }
    out
}

/// The quantity a meter check reads.
const PROBE_QUANTITY: &str = "energy-import";

async fn probe(capability: &str, driver: &DriverConfig) -> (String, Result<String, String>) {
    match driver {
        DriverConfig::Command(spec) => (spec.program.clone(), command_probe(spec).await),
        DriverConfig::Operator { .. } if operator::interactive() => ("a person at this terminal".into(), Ok("will be asked when a case needs it".into())),
        DriverConfig::Operator { .. } => ("a person at the bench".into(), Ok("this run is not interactive: cases that need it will be skipped".into())),
        DriverConfig::ModbusMeter(spec) => {
            let r = modbus::read(spec, PROBE_QUANTITY).await.map(|(v, u)| format!("{PROBE_QUANTITY} {v} {u}"));
            (spec.link.device("meter"), r)
        }
        DriverConfig::ModbusRelays(spec) => (spec.link.device("relay board"), read_back(driver, true).await),
        DriverConfig::Http(spec) => {
            // Route placeholders are filled with a sample station and version.
            let sample = [("station", "CS001".to_string()), ("version", "2.0.1".to_string())];
            let routes = http::probe_routes(spec, &sample).await;
            let r = match (http::probe(spec).await, routes, capability) {
                (Some(Err(e)), _, _) => Err(e),
                (Some(Ok(p)), Some(routes), _) => routes.map(|r| format!("{p}; {r}")),
                (Some(probed), None, _) => probed,
                (None, Some(routes), _) => routes,
                (None, None, "meter") => http::read(spec, PROBE_QUANTITY, &[("quantity", PROBE_QUANTITY.to_string())]).await.map(|(v, u)| format!("{PROBE_QUANTITY} {v} {u}")),
                (None, None, _) => Ok("no probe-url declared: not checked".into()),
            };
            (spec.url.clone(), r)
        }
        DriverConfig::Scpi(spec) => match scpi::identify(spec).await {
            Ok(idn) if capability == "meter" => {
                let q = spec.quantities.keys().next().cloned().unwrap_or_default();
                (idn, scpi::read(spec, &q).await.map(|(v, u)| format!("{q} {v} {u}, error queue empty")))
            }
            Ok(idn) => (idn, Ok("error queue empty".into())),
            Err(e) => (format!("SCPI instrument at {}", spec.address), Err(e)),
        },
        DriverConfig::Gpio(spec) => match gpio::identify(spec).await {
            // Relay lines are not touched: requesting an output as an input would let it float.
            Ok(chip) => (chip, read_back(driver, false).await),
            Err(e) => (spec.chip.clone(), Err(e)),
        },
    }
}

/// Read a board's inputs (and its relays, when `relays`) without switching anything: "name on,
/// …", or the first error.
async fn read_back(driver: &DriverConfig, relays: bool) -> Result<String, String> {
    let (relay_names, inputs) = board_lines(driver).expect("a board driver");
    let reads = relay_names.into_iter().filter(|_| relays).map(BoardOp::GetRelay).chain(inputs.into_iter().map(BoardOp::ReadInput));
    let mut seen = vec![];
    for op in reads {
        let name = match op {
            BoardOp::GetRelay(n) | BoardOp::ReadInput(n) | BoardOp::SetRelay(n, _) => n,
        };
        let on = on_board(driver, op).await.expect("a board driver")?;
        seen.push(format!("{name} {}", if on { "on" } else { "off" }));
    }
    Ok(if seen.is_empty() { "lines present".into() } else { seen.join(", ") })
}

/// Run a command driver's probe, if it declares one.
async fn command_probe(spec: &CommandSpec) -> Result<String, String> {
    let Some(args) = &spec.probe else { return Ok("no probe declared: not checked".into()) };
    let probe = CommandSpec { args: args.clone(), probe: None, ..spec.clone() };
    command::run(&probe, &[]).await.map(|()| format!("probe {} passed", args.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{Instrument, Reply, Sdm630, serve_modbus_tcp};

    /// Healthy and broken devices side by side: each line says which is which, and why.
    #[tokio::test]
    async fn each_capability_is_reported_healthy_or_broken() {
        let emulator = Instrument::start(|l| if l == "*IDN?" { Reply::Answer("ACME,EV-EMU 3,SN42,1.0".into()) } else { Reply::Done }).await;
        let silent = Instrument::start(|_| Reply::Silence).await;
        let meter = serve_modbus_tcp(Sdm630::new(|| 12_345.0)).await;
        let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        // A device's web API with a status page.
        let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_addr = api.local_addr().unwrap();
        tokio::spawn(axum::serve(api, axum::Router::new().route("/status", axum::routing::get(|| async { "up" }))).into_future());
        let text = format!(
            r#"
            [capabilities.plug]
            driver = "scpi"
            address = "{}"
            commands = ["EV:PLUG {{evse}},{{onoff}}"]
            [capabilities.pilot]
            driver = "scpi"
            address = "{}"
            timeout-ms = 300
            commands = ["EV:CP {{state}}"]
            [capabilities.meter]
            driver = "modbus-meter"
            address = "{meter}"
            map = "sdm630"
            [capabilities.relay]
            driver = "modbus-relays"
            address = "{nobody}"
            relays = {{ contactor = 0 }}
            [capabilities.power-cycle]
            driver = "command"
            program = "sh"
            args = ["-c", "exit 0"]
            probe = ["-c", "exit 3"]
            [capabilities.network]
            driver = "command"
            program = "true"
            probe = []
            [capabilities.token-reader]
            driver = "http"
            url = "http://{api_addr}/token"
            probe-url = "http://{api_addr}/status"
            [capabilities.ev-fault]
            driver = "http"
            url = "http://{api_addr}/fault"
            probe-url = "http://{api_addr}/no-such-page"
            [capabilities.digital-input]
            driver = "gpio"
            chip = "/dev/gpiochip-none"
            inputs = {{ door = 4 }}
            "#,
            emulator.address(),
            silent.address()
        );
        let config = BenchConfig::parse(&text).unwrap();
        let report = check(&config).await;
        let line = |c: &str| report.iter().find(|r| r.capability == c).unwrap_or_else(|| panic!("no line for {c}"));
        assert!(line("plug").ok() && line("plug").device == "ACME,EV-EMU 3,SN42,1.0", "{}", line("plug").line());
        assert!(line("pilot").line().contains("FAILED") && line("pilot").line().contains("no answer within 300 ms"), "{}", line("pilot").line());
        assert!(line("meter").line().contains("ok: energy-import 12345"), "{}", line("meter").line());
        assert!(!line("relay").ok() && line("relay").line().contains("cannot connect"), "{}", line("relay").line());
        assert!(line("power-cycle").line().contains("FAILED") && line("power-cycle").line().contains("exit"), "{}", line("power-cycle").line());
        assert!(line("network").ok(), "{}", line("network").line());
        assert!(line("digital-input").line().contains("cannot open"), "{}", line("digital-input").line());
        assert!(line("token-reader").line().contains("ok: GET http://") , "{}", line("token-reader").line());
        assert!(line("ev-fault").line().contains("FAILED") && line("ev-fault").line().contains("404"), "{}", line("ev-fault").line());
        assert_eq!(report.iter().filter(|r| !r.ok()).count(), 5);
    }
}
