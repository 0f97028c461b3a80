//! The bench: the logical capabilities a case can use to act on the DUT's physical world
//! (cable, pilot, card reader, power, network) or to have a CSMS DUT act, and the drivers that
//! carry them out: the simulator behind the built-in reference DUTs, a program per action
//! (`command`), or a person (`operator`), as the bench description (`config`) says.
pub mod command;
pub mod config;
pub mod http;
pub mod modbus;
pub mod operator;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use config::{BenchConfig, CommandSpec, DriverConfig};

use serde_json::Value;

use crate::{
    dut::{
        csms::CsmsHandle,
        station::{EvFault, Input, Pilot, StationHandle},
    },
    trace::Trace,
};

/// Every capability name a case may list in `needs`, with what it stands for.
pub const CAPABILITIES: &[(&str, &str)] = &[
    ("plug", "plug the EV cable in and out"),
    ("pilot", "set the EV simulator's control-pilot state"),
    ("token-reader", "present an id token to the station's reader"),
    ("power-cycle", "cut and restore the station's power"),
    ("network", "take the DUT's network link down and up"),
    ("csms-trigger", "make the CSMS DUT send a message"),
    ("ev-fault", "put a diode fault or an RCD trip on an EVSE's charging circuit, or clear it"),
    ("meter", "read the bench energy meter (energy, power, voltage, current)"),
    ("relay", "switch a named relay on the bench"),
    ("digital-input", "read a named digital input on the bench"),
];

/// One bench action, as a case asked for it.
#[derive(Debug, Clone)]
pub enum Action {
    Plug { evse: u32, connected: bool },
    Pilot { evse: u32, state: Pilot },
    Token(String),
    PowerCycle,
    Network(bool),
    EvFault { evse: u32, fault: EvFault },
    CsmsTrigger { action: String, payload: Value },
}

impl Action {
    pub fn capability(&self) -> &'static str {
        match self {
            Action::Plug { .. } => "plug",
            Action::Pilot { .. } => "pilot",
            Action::Token(_) => "token-reader",
            Action::PowerCycle => "power-cycle",
            Action::Network(_) => "network",
            Action::EvFault { .. } => "ev-fault",
            Action::CsmsTrigger { .. } => "csms-trigger",
        }
    }

    /// How the action reads in the trace.
    pub fn describe(&self) -> String {
        match self {
            Action::Plug { evse, connected: true } => format!("plug the cable in at EVSE {evse}"),
            Action::Plug { evse, connected: false } => format!("pull the cable out at EVSE {evse}"),
            Action::Pilot { evse, state } => format!("set the control pilot of EVSE {evse} to state {state:?}"),
            Action::Token(t) => format!("present id token {t} to the reader"),
            Action::PowerCycle => "cycle the station's power".into(),
            Action::Network(true) => "bring the network link back".into(),
            Action::Network(false) => "take the network link down".into(),
            Action::EvFault { evse, fault: EvFault::Cleared } => format!("clear the circuit fault at EVSE {evse}"),
            Action::EvFault { evse, fault } => format!("put a {fault:?} on the circuit of EVSE {evse}"),
            Action::CsmsTrigger { action, payload } => format!("make the CSMS send {action} {payload}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BenchError {
    Unavailable(String),
    Failed(String),
}

/// The drivers of one case's bench.
#[derive(Clone, Default)]
pub struct Bench {
    /// The built-in station's physical inputs.
    station: Option<StationHandle>,
    /// The built-in CSMS, and the station id the harness connects as.
    csms: Option<(CsmsHandle, String)>,
    /// Drivers the bench description configures; they take precedence over the simulator.
    configured: BTreeMap<String, DriverConfig>,
    safe_state: Option<Arc<CommandSpec>>,
    safe_state_http: Option<Arc<http::HttpSpec>>,
    /// `{station}` and `{version}` for the drivers' templates.
    run_fields: Vec<(&'static str, String)>,
}

/// A circuit fault as templates and APIs spell it.
pub fn fault_name(f: EvFault) -> &'static str {
    match f {
        EvFault::DiodeFault => "diode-fault",
        EvFault::RcdTrip => "rcd-trip",
        EvFault::Cleared => "cleared",
    }
}

impl Bench {
    /// No drivers at all: every capability is missing.
    pub fn none() -> Bench {
        Bench::default()
    }

    pub fn sim_station(h: StationHandle) -> Bench {
        Bench { station: Some(h), ..Bench::default() }
    }

    pub fn sim_csms(h: CsmsHandle, station_id: impl Into<String>) -> Bench {
        Bench { csms: Some((h, station_id.into())), ..Bench::default() }
    }

    /// Add the drivers of a bench description.
    pub fn with_config(mut self, c: &BenchConfig) -> Bench {
        self.configured = c.capabilities.clone();
        self.safe_state = c.safe_state.clone().map(Arc::new);
        self.safe_state_http = c.safe_state_http.clone().map(Arc::new);
        self
    }

    /// The station id and OCPP version of the running case, for `{station}` and `{version}`.
    pub fn for_case(mut self, station_id: &str, version: crate::version::OcppVersion) -> Bench {
        self.run_fields = vec![("station", station_id.to_string()), ("version", version.to_string())];
        self
    }

    pub fn has(&self, capability: &str) -> bool {
        self.why_missing(capability).is_none()
    }

    /// Why this bench cannot provide a capability, or None when it can.
    pub fn why_missing(&self, capability: &str) -> Option<String> {
        match self.configured.get(capability) {
            Some(DriverConfig::Command(_) | DriverConfig::ModbusMeter(_) | DriverConfig::ModbusRelays(_) | DriverConfig::Http(_)) => None,
            Some(DriverConfig::Operator { .. }) if operator::interactive() => None,
            Some(DriverConfig::Operator { .. }) => Some(format!("needs an operator for {capability:?}, and this run is not interactive")),
            None if self.sim_has(capability) => None,
            None => Some(format!("needs the capability {capability:?}, and this bench has no driver for it")),
        }
    }

    fn sim_has(&self, capability: &str) -> bool {
        match capability {
            "csms-trigger" => self.csms.is_some(),
            "plug" | "pilot" | "token-reader" | "power-cycle" | "network" | "meter" | "ev-fault" => self.station.is_some(),
            _ => false,
        }
    }

    /// Why the bench cannot serve a case with these needs (the skip reason), if it cannot.
    pub fn missing(&self, needs: &[String]) -> Option<String> {
        needs.iter().find_map(|n| self.why_missing(n))
    }

    /// Put the bench in a safe state after a case, whatever its outcome: the simulated EVs are
    /// unplugged (pilot A) and the description's `safe-state` command runs.
    pub async fn safe_state(&self, trace: &Trace) {
        if let Some(station) = &self.station {
            for evse in 1..=8 {
                station.send(Input::Plug { evse, connected: false });
                station.send(Input::EvFault { evse, fault: crate::dut::station::EvFault::Cleared });
            }
            trace.log("bench", "safe state: simulated EVs unplugged (pilot A), circuit faults cleared");
        }
        // Relays released.
        for driver in self.configured.values() {
            if let DriverConfig::ModbusRelays(board) = driver {
                for name in board.relays.keys() {
                    match modbus::board(board, modbus::BoardOp::SetRelay(name, false)).await {
                        Ok(_) => trace.log("bench", format!("safe state: relay {name} off")),
                        Err(e) => trace.log("bench", format!("safe state failed: {e}")),
                    }
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
            Some(_) => Err("the meter capability needs a modbus-meter driver".to_string()),
            // The simulator's meter sits on EVSE 1's feed and counts energy only.
            None if self.station.is_some() => match quantity {
                "energy-import" => Ok((self.station.as_ref().expect("checked").meter_wh(), "Wh".to_string())),
                q => Err(format!("the simulated meter measures energy-import only, not {q:?}")),
            },
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
    /// (`input = true`), recorded in the trace.
    pub async fn relay_board(&self, name: &str, set: Option<bool>, input: bool, trace: &Trace) -> Result<bool, BenchError> {
        let capability = if input { "digital-input" } else { "relay" };
        let Some(DriverConfig::ModbusRelays(board)) = self.configured.get(capability) else {
            let e = format!("needs the capability {capability:?}, and this bench has no driver for it");
            trace.log("bench", format!("unavailable: {e}"));
            return Err(BenchError::Unavailable(e));
        };
        let op = match (input, set) {
            (true, _) => modbus::BoardOp::ReadInput(name),
            (false, Some(on)) => modbus::BoardOp::SetRelay(name, on),
            (false, None) => modbus::BoardOp::GetRelay(name),
        };
        let what = match (input, set) {
            (true, _) => format!("read input {name}"),
            (false, Some(on)) => format!("switch relay {name} {}", if on { "on" } else { "off" }),
            (false, None) => format!("read relay {name}"),
        };
        let r = modbus::board(board, op).await;
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

    /// Carry out an action on the built-in DUTs.
    async fn sim_act(&self, action: Action) -> Result<(), String> {
        match action {
            Action::CsmsTrigger { action, payload } => {
                let (csms, station) = self.csms.as_ref().expect("checked by has()");
                // The CSMS registers a connection just after the handshake the case saw finish.
                let mut tries = 0;
                loop {
                    match csms.send_call(station, &action, payload.clone()) {
                        Err(e) if e.contains("not connected") && tries < 40 => tries += 1,
                        other => break other,
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            other => {
                let input = match other {
                    Action::Plug { evse, connected } => Input::Plug { evse, connected },
                    Action::Pilot { evse, state } => Input::Pilot { evse, state },
                    Action::Token(t) => Input::Token(t),
                    Action::PowerCycle => Input::PowerCycle,
                    Action::Network(up) => Input::Network(up),
                    Action::EvFault { evse, fault } => Input::EvFault { evse, fault },
                    Action::CsmsTrigger { .. } => unreachable!(),
                };
                let station = self.station.as_ref().expect("checked by has()");
                if station.send(input) { Ok(()) } else { Err("the simulated station is not running".into()) }
            }
        }
    }
}
