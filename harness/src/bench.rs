//! The bench: the logical capabilities a case can use to act on the DUT's physical world
//! (cable, pilot, card reader, power, network) or to have a CSMS DUT act, and the driver that
//! carries them out. Today's driver is the simulator behind the built-in reference DUTs; real
//! lab equipment plugs in here.
use std::time::Duration;

use serde_json::Value;

use crate::{
    dut::{
        csms::CsmsHandle,
        station::{Input, Pilot, StationHandle},
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
];

/// One bench action, as a case asked for it.
#[derive(Debug, Clone)]
pub enum Action {
    Plug { evse: u32, connected: bool },
    Pilot { evse: u32, state: Pilot },
    Token(String),
    PowerCycle,
    Network(bool),
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
}

impl Bench {
    /// No drivers at all: every capability is missing.
    pub fn none() -> Bench {
        Bench::default()
    }

    pub fn sim_station(h: StationHandle) -> Bench {
        Bench { station: Some(h), csms: None }
    }

    pub fn sim_csms(h: CsmsHandle, station_id: impl Into<String>) -> Bench {
        Bench { station: None, csms: Some((h, station_id.into())) }
    }

    pub fn has(&self, capability: &str) -> bool {
        match capability {
            "csms-trigger" => self.csms.is_some(),
            "plug" | "pilot" | "token-reader" | "power-cycle" | "network" => self.station.is_some(),
            _ => false,
        }
    }

    /// The first of `needs` this bench cannot provide.
    pub fn missing<'a>(&self, needs: &'a [String]) -> Option<&'a str> {
        needs.iter().map(String::as_str).find(|n| !self.has(n))
    }

    /// Carry out an action, recording it (time-stamped) in the case's trace.
    pub async fn act(&self, action: Action, trace: &Trace) -> Result<(), BenchError> {
        let what = action.describe();
        if !self.has(action.capability()) {
            let e = format!("this bench has no driver for {:?} ({what})", action.capability());
            trace.log("bench", format!("unavailable: {e}"));
            return Err(BenchError::Unavailable(e));
        }
        trace.log("bench", what.clone());
        let result = match action {
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
                    Action::CsmsTrigger { .. } => unreachable!(),
                };
                let station = self.station.as_ref().expect("checked by has()");
                if station.send(input) { Ok(()) } else { Err("the simulated station is not running".into()) }
            }
        };
        result.map_err(|e| {
            trace.log("bench", format!("failed: {e}"));
            BenchError::Failed(e)
        })
    }
}
