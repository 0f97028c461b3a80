//! The bench: the logical capabilities a case can use to act on the DUT's physical world
//! (cable, pilot, card reader, power, network) or to have a CSMS DUT act (`capability`), and
//! the drivers that carry them out: a simulated DUT (`simulator`), a program per action
//! (`command`), an HTTP API (`http`), Modbus devices (`modbus`) or a person (`operator`), as
//! the bench description (`config`) says.
pub mod capability;
pub mod check;
pub mod command;
pub mod config;
#[cfg(any(test, feature = "fakes"))]
pub mod fake;
pub mod gpio;
pub mod http;
pub mod modbus;
pub mod operator;
pub mod scpi;
pub mod simulator;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use config::{BenchConfig, CommandSpec, DriverConfig};

pub use capability::{Action, CAPABILITIES, EvFault, Pilot, fault_name};
use ocpp_core::trace::Trace;
pub use modbus::BoardOp;
pub use simulator::Simulator;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BenchError {
    Unavailable(String),
    Failed(String),
}

/// The drivers of one case's bench.
#[derive(Clone, Default)]
pub struct Bench {
    /// Simulated DUTs (the built-in station or CSMS): drivers for what they offer.
    simulators: Vec<Arc<dyn Simulator>>,
    /// Drivers the bench description configures; they take precedence over the simulator.
    configured: BTreeMap<String, DriverConfig>,
    safe_state: Option<Arc<CommandSpec>>,
    safe_state_http: Option<Arc<http::HttpSpec>>,
    /// `{station}` and `{version}` for the drivers' templates.
    run_fields: Vec<(&'static str, String)>,
}

impl Bench {
    /// No drivers at all: every capability is missing.
    pub fn none() -> Bench {
        Bench::default()
    }

    /// A bench whose drivers are a simulated DUT's.
    pub fn simulated(sim: Arc<dyn Simulator>) -> Bench {
        Bench { simulators: vec![sim], ..Bench::default() }
    }

    /// Add the drivers of a bench description.
    pub fn with_config(mut self, c: &BenchConfig) -> Bench {
        self.configured = c.capabilities.clone();
        self.safe_state = c.safe_state.clone().map(Arc::new);
        self.safe_state_http = c.safe_state_http.clone().map(Arc::new);
        self
    }

    /// The station id and OCPP version of the running case, for `{station}` and `{version}`.
    pub fn for_case(mut self, station_id: &str, version: ocpp_core::version::OcppVersion) -> Bench {
        self.run_fields = vec![("station", station_id.to_string()), ("version", version.to_string())];
        self
    }

    pub fn has(&self, capability: &str) -> bool {
        self.why_missing(capability).is_none()
    }

    /// Why this bench cannot provide a capability, or None when it can.
    pub fn why_missing(&self, capability: &str) -> Option<String> {
        match self.configured.get(capability) {
            Some(DriverConfig::Command(_) | DriverConfig::ModbusMeter(_) | DriverConfig::ModbusRelays(_) | DriverConfig::Http(_) | DriverConfig::Scpi(_) | DriverConfig::Gpio(_)) => None,
            Some(DriverConfig::Operator { .. }) if operator::interactive() => None,
            Some(DriverConfig::Operator { .. }) => Some(format!("needs an operator for {capability:?}, and this run is not interactive")),
            None if self.sim_has(capability) => None,
            None => Some(format!("needs the capability {capability:?}, and this bench has no driver for it")),
        }
    }

    /// How long a person at the bench is given to confirm, when there is one: the bench has an
    /// `operator` driver and the run is interactive. The baseline's last resort.
    pub fn operator(&self) -> Option<std::time::Duration> {
        let timeout = self.configured.values().find_map(|d| match d {
            DriverConfig::Operator { timeout_ms } => Some(*timeout_ms),
            _ => None,
        })?;
        operator::interactive().then(|| std::time::Duration::from_millis(timeout))
    }

    fn sim_has(&self, capability: &str) -> bool {
        self.simulator(capability).is_some()
    }

    /// The simulated DUT that offers `capability`, if one does.
    fn simulator(&self, capability: &str) -> Option<&Arc<dyn Simulator>> {
        self.simulators.iter().find(|s| s.offers(capability))
    }

    /// Why the bench cannot serve a case with these needs (the skip reason), if it cannot.
    pub fn missing(&self, needs: &[String]) -> Option<String> {
        needs.iter().find_map(|n| self.why_missing(n))
    }

    /// Put the bench in a safe state after a case, whatever its outcome: the simulated EVs are
    /// unplugged (pilot A) and the description's `safe-state` command runs.
    pub async fn safe_state(&self, trace: &Trace) {
        for done in self.simulators.iter().filter_map(|s| s.safe_state()) {
            trace.log("bench", format!("safe state: {done}"));
        }
        // Relays released.
        for driver in self.configured.values() {
            for name in board_lines(driver).map(|(relays, _)| relays).unwrap_or_default() {
                match on_board(driver, BoardOp::SetRelay(name, false)).await.expect("a board driver") {
                    Ok(_) => trace.log("bench", format!("safe state: relay {name} off")),
                    Err(e) => trace.log("bench", format!("safe state failed: {e}")),
                }
            }
        }
        if let Some(spec) = &self.safe_state {
            match command::run(spec, &self.run_fields).await {
                Ok(()) => trace.log("bench", format!("safe state: {} done", spec.program)),
                Err(e) => trace.log("bench", format!("safe state failed: {e}")),
            }
        }
        if let Some(spec) = &self.safe_state_http {
            match http::send(spec, &self.run_fields).await {
                Ok(_) => trace.log("bench", format!("safe state: {} {} done", spec.method, spec.url)),
                Err(e) => trace.log("bench", format!("safe state failed: {e}")),
            }
        }
    }

    /// Carry out an action, recording it (time-stamped) in the case's trace.
    pub async fn act(&self, action: Action, trace: &Trace) -> Result<(), BenchError> {
        let what = action.describe();
        if let Some(e) = self.why_missing(action.capability()) {
            let e = format!("{e} ({what})");
            trace.log("bench", format!("unavailable: {e}"));
            return Err(BenchError::Unavailable(e));
        }
        trace.log("bench", what.clone());
        let result = match (self.configured.get(action.capability()), action) {
            (Some(DriverConfig::Command(spec)), action) => command::run(spec, &self.fields(&action)).await,
            (Some(DriverConfig::Http(spec)), action) => http::send(spec, &self.fields(&action)).await.map(drop),
            (Some(DriverConfig::Scpi(spec)), action) => scpi::run(spec, &self.fields(&action)).await,
            (Some(DriverConfig::Gpio(_)), _) => Err(format!("a GPIO line cannot {what}")),
            (Some(DriverConfig::Operator { timeout_ms }), _) => operator::ask(&what, Duration::from_millis(*timeout_ms)).await,
            (Some(DriverConfig::ModbusMeter(_) | DriverConfig::ModbusRelays(_)), _) => Err(format!("a Modbus device cannot {what}")),
            (None, action) => self.sim_act(action).await,
        };
        result.map_err(|e| {
            trace.log("bench", format!("failed: {e}"));
            BenchError::Failed(e)
        })
    }

    /// Read a quantity from the bench meter (capability `meter`), recorded in the trace.
    pub async fn read_meter(&self, quantity: &str, trace: &Trace) -> Result<(f64, String), BenchError> {
        let reading = match self.configured.get("meter") {
            Some(DriverConfig::ModbusMeter(spec)) => modbus::read(spec, quantity).await.map(|(v, u)| (v, u.to_string())),
            Some(DriverConfig::Http(spec)) => {
                let mut fields = self.run_fields.clone();
                fields.push(("quantity", quantity.to_string()));
                http::read(spec, quantity, &fields).await
            }
            Some(DriverConfig::Scpi(spec)) => scpi::read(spec, quantity).await,
            Some(d) => Err(format!("the meter capability cannot use the {} driver", d.name())),
            None if self.sim_has("meter") => self.simulator("meter").expect("checked").read_meter(quantity),
            None => {
                let e = "needs the capability \"meter\", and this bench has no driver for it".to_string();
                trace.log("bench", format!("unavailable: {e}"));
                return Err(BenchError::Unavailable(e));
            }
        };
        match &reading {
            Ok((v, u)) => trace.log("bench", format!("meter {quantity}: {v} {u}")),
            Err(e) => trace.log("bench", format!("failed: meter {quantity}: {e}")),
        }
        reading.map_err(BenchError::Failed)
    }

    /// Switch a relay (`Some(on)`), read it back (`None`), or read a digital input
    /// (`input = true`), recorded in the trace: on a board (Modbus, GPIO), over HTTP, or on
    /// the simulated DUT.
    pub async fn relay_board(&self, name: &str, set: Option<bool>, input: bool, trace: &Trace) -> Result<bool, BenchError> {
        let capability = if input { "digital-input" } else { "relay" };
        if let Some(e) = self.why_missing(capability) {
            trace.log("bench", format!("unavailable: {e}"));
            return Err(BenchError::Unavailable(e));
        }
        let op = match (input, set) {
            (true, _) => BoardOp::ReadInput(name),
            (false, Some(on)) => BoardOp::SetRelay(name, on),
            (false, None) => BoardOp::GetRelay(name),
        };
        let what = match (input, set) {
            (true, _) => format!("read input {name}"),
            (false, Some(on)) => Action::Relay { name: name.to_string(), on }.describe(),
            (false, None) => format!("read relay {name}"),
        };
        let mut fields = self.run_fields.clone();
        fields.push(("name", name.to_string()));
        let r = match (self.configured.get(capability), op) {
            (Some(DriverConfig::Http(spec)), BoardOp::SetRelay(_, on)) => {
                fields.extend([("on", on.to_string()), ("onoff", if on { "ON" } else { "OFF" }.to_string())]);
                http::send(spec, &fields).await.map(|_| on)
            }
            (Some(DriverConfig::Http(spec)), op) => http::read_state(spec, &fields, matches!(op, BoardOp::GetRelay(_))).await,
            (Some(driver), op) => on_board(driver, op).await.unwrap_or_else(|| Err(format!("the {} driver has no relays or inputs", driver.name()))),
            (None, BoardOp::SetRelay(_, on)) => self.sim_act(Action::Relay { name: name.to_string(), on }).await.map(|()| on),
            (None, _) => self.simulator(capability).expect("checked by why_missing").read_line(name, input),
        };
        match &r {
            Ok(state) => trace.log("bench", format!("{what}: {}", if *state { "on" } else { "off" })),
            Err(e) => trace.log("bench", format!("failed: {what}: {e}")),
        }
        r.map_err(BenchError::Failed)
    }

    /// An action's template values, with the run's.
    fn fields(&self, action: &Action) -> Vec<(&'static str, String)> {
        let mut f = command::fields(action);
        f.extend(self.run_fields.iter().cloned());
        f
    }

    /// Carry out an action on the simulated DUT that offers it.
    async fn sim_act(&self, action: Action) -> Result<(), String> {
        let sim = self.simulator(action.capability()).expect("checked by has()");
        sim.act(action).await
    }
}

/// The relay and input names of a board driver (a Modbus relay board or GPIO lines); None for
/// any other driver.
pub(crate) fn board_lines(driver: &DriverConfig) -> Option<(Vec<&str>, Vec<&str>)> {
    fn names<V>(m: &BTreeMap<String, V>) -> Vec<&str> {
        m.keys().map(String::as_str).collect()
    }
    match driver {
        DriverConfig::ModbusRelays(b) => Some((names(&b.relays), names(&b.inputs))),
        DriverConfig::Gpio(g) => Some((names(&g.relays), names(&g.inputs))),
        _ => None,
    }
}

/// Carry out `op` on a board driver; the state read or set. None for any other driver.
pub(crate) async fn on_board(driver: &DriverConfig, op: BoardOp<'_>) -> Option<Result<bool, String>> {
    Some(match (driver, op) {
        (DriverConfig::ModbusRelays(b), op) => modbus::board(b, op).await,
        (DriverConfig::Gpio(g), BoardOp::SetRelay(name, on)) => gpio::set_relay(g, name, on).await,
        (DriverConfig::Gpio(g), BoardOp::GetRelay(name)) => gpio::read(g, name, false).await,
        (DriverConfig::Gpio(g), BoardOp::ReadInput(name)) => gpio::read(g, name, true).await,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::{Json, Router, extract::Path, routing::{get, post}};
    use serde_json::{Value, json};

    use super::*;

    /// A relay module with an HTTP API (Tasmota-like: states as "ON"/"OFF"), reached through
    /// the bench: a relay switched, read back, an input read; a state the driver cannot read
    /// and a relay without read-url fail with the reason.
    #[tokio::test]
    async fn relays_and_inputs_over_http() {
        let relays: Arc<Mutex<BTreeMap<String, bool>>> = Arc::default();
        let (set, get_relay) = (relays.clone(), relays.clone());
        let app = Router::new()
            .route("/relay", post(move |Json(b): Json<Value>| async move {
                set.lock().unwrap().insert(b["name"].as_str().unwrap().to_string(), b["on"] == true);
            }))
            .route("/relay/{name}", get(move |Path(name): Path<String>| async move {
                let on = get_relay.lock().unwrap().get(&name).copied().unwrap_or(false);
                Json(json!({"POWER": if on { "ON" } else { "OFF" }}))
            }))
            .route("/input/{name}", get(|Path(name): Path<String>| async move {
                Json(match name.as_str() {
                    "contactor-1" => json!({"POWER": 1}),
                    _ => json!({"POWER": "maybe"}),
                })
            }));
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(tcp, app).await });
        let description = |read_url: &str| {
            format!(
                "[capabilities.relay]\ndriver = \"http\"\nurl = \"http://{addr}/relay\"\nbody = '{{\"name\": \"{{name}}\", \"on\": {{on}}}}'\n{read_url}value-pointer = \"/POWER\"\n\
                 [capabilities.digital-input]\ndriver = \"http\"\nmethod = \"GET\"\nurl = \"http://{addr}/input/{{name}}\"\nvalue-pointer = \"/POWER\"\n"
            )
        };
        let config = config::BenchConfig::parse(&description(&format!("read-url = \"http://{addr}/relay/{{name}}\"\n"))).unwrap();
        let bench = Bench::none().with_config(&config);
        let trace = Trace::default();
        assert_eq!(bench.relay_board("tamper", Some(true), false, &trace).await, Ok(true));
        assert_eq!(relays.lock().unwrap().get("tamper"), Some(&true), "the module was switched");
        assert_eq!(bench.relay_board("tamper", None, false, &trace).await, Ok(true), "read back as ON");
        assert_eq!(bench.relay_board("contactor-1", None, true, &trace).await, Ok(true), "a number: non-zero is on");
        let Err(BenchError::Failed(e)) = bench.relay_board("door", None, true, &trace).await else { panic!("an unreadable state passed") };
        assert!(e.contains("no on/off state at /POWER") && e.contains("maybe"), "{e}");
        let blind = Bench::none().with_config(&config::BenchConfig::parse(&description("")).unwrap());
        let Err(BenchError::Failed(e)) = blind.relay_board("tamper", None, false, &trace).await else { panic!("read back without read-url") };
        assert!(e.contains("needs read-url"), "{e}");
        // The description is checked before a run: an input needs a pointer, read-url is a relay's.
        let e = config::BenchConfig::parse(&format!("[capabilities.digital-input]\ndriver = \"http\"\nurl = \"http://{addr}/x\"\n")).unwrap_err().to_string();
        assert!(e.contains("needs value-pointer"), "{e}");
        let e = config::BenchConfig::parse(&format!("[capabilities.plug]\ndriver = \"http\"\nurl = \"http://{addr}/x\"\nread-url = \"http://{addr}/y\"\n")).unwrap_err().to_string();
        assert!(e.contains("read-url is for reading a relay back"), "{e}");
    }
}
