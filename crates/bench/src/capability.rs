//! The capability vocabulary: what a case can ask of the DUT's physical world (or of a CSMS
//! DUT), the same for every driver — a Modbus board, a command, a person or a simulator.
use serde_json::Value;

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
    ("ev-15118", "have an ISO 15118 EV (high-level communication) authorize, get a contract certificate, state its needs or stop"),
];

/// One bench action, as a case asked for it.
#[derive(Debug, Clone)]
pub enum Action {
    Plug {
        evse: u32,
        connected: bool,
    },
    Pilot {
        evse: u32,
        state: Pilot,
    },
    /// An id token held to a reader: the reader of EVSE `evse`, or the station's one reader
    /// when `evse` is 0 (a driver's `{evse}` is then 0).
    Token {
        evse: u32,
        token: String,
    },
    PowerCycle,
    Network(bool),
    EvFault { evse: u32, fault: EvFault },
    CsmsTrigger { action: String, payload: Value },
    /// Switch a relay the bench description names: wired, for instance, to the station's
    /// tamper switch or to a contactor's feed.
    Relay { name: String, on: bool },
    /// The ISO 15118 EV at `evse` does `request` (`EV_15118_REQUESTS`) with `params`.
    Ev15118 { evse: u32, request: String, params: Value },
}

/// What an ISO 15118 EV simulator is asked to do (`ev-15118`): authorize with its contract
/// certificate (Plug & Charge), ask for a contract certificate to be installed or updated,
/// state its charging needs (again, to renegotiate), or end the charging session itself.
pub const EV_15118_REQUESTS: &[&str] = &["plug-and-charge", "install-contract", "update-contract", "charging-needs", "renegotiate", "stop-charging"];

impl Action {
    pub fn capability(&self) -> &'static str {
        match self {
            Action::Plug { .. } => "plug",
            Action::Pilot { .. } => "pilot",
            Action::Token { .. } => "token-reader",
            Action::PowerCycle => "power-cycle",
            Action::Network(_) => "network",
            Action::EvFault { .. } => "ev-fault",
            Action::CsmsTrigger { .. } => "csms-trigger",
            Action::Relay { .. } => "relay",
            Action::Ev15118 { .. } => "ev-15118",
        }
    }

    /// How the action reads in the trace.
    pub fn describe(&self) -> String {
        match self {
            Action::Plug { evse, connected: true } => format!("plug the cable in at EVSE {evse}"),
            Action::Plug { evse, connected: false } => format!("pull the cable out at EVSE {evse}"),
            Action::Pilot { evse, state } => {
                format!("set the control pilot of EVSE {evse} to state {state:?}")
            }
            Action::Token { evse: 0, token } => format!("present id token {token} to the reader"),
            Action::Token { evse, token } => {
                format!("present id token {token} to the reader of EVSE {evse}")
            }
            Action::PowerCycle => "cycle the station's power".into(),
            Action::Network(true) => "bring the network link back".into(),
            Action::Network(false) => "take the network link down".into(),
            Action::EvFault { evse, fault: EvFault::Cleared } => format!("clear the circuit fault at EVSE {evse}"),
            Action::EvFault { evse, fault } => {
                format!("put a {fault:?} on the circuit of EVSE {evse}")
            }
            Action::CsmsTrigger { action, payload } => {
                format!("make the CSMS send {action} {payload}")
            }
            Action::Relay { name, on } => {
                format!("switch relay {name} {}", if *on { "on" } else { "off" })
            }
            Action::Ev15118 { evse, request, params } if params.as_object().is_none_or(|o| o.is_empty()) => format!("have the ISO 15118 EV at EVSE {evse} {request}"),
            Action::Ev15118 { evse, request, params } => format!("have the ISO 15118 EV at EVSE {evse} {request} with {params}"),
        }
    }
}

/// Control-pilot states of IEC 61851 as an EV simulator sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pilot {
    /// No EV.
    A,
    /// EV connected, not asking for energy (suspended).
    B,
    /// EV charging.
    C,
    /// Charging with ventilation.
    D,
    /// Error: no pilot.
    E,
    /// Error: EVSE not available.
    F,
}

impl Pilot {
    /// A state by its letter (A-F, either case), as consoles and APIs name it.
    pub fn from_letter(s: &str) -> Option<Pilot> {
        Some(match s.to_ascii_uppercase().as_str() {
            "A" => Pilot::A,
            "B" => Pilot::B,
            "C" => Pilot::C,
            "D" => Pilot::D,
            "E" => Pilot::E,
            "F" => Pilot::F,
            _ => return None,
        })
    }
}

/// A fault on an EVSE's charging circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvFault {
    /// The EV's diode is shorted.
    DiodeFault,
    /// The residual-current device tripped.
    RcdTrip,
    /// The fault is gone.
    Cleared,
}

/// A circuit fault as templates and APIs spell it.
pub fn fault_name(f: EvFault) -> &'static str {
    match f {
        EvFault::DiodeFault => "diode-fault",
        EvFault::RcdTrip => "rcd-trip",
        EvFault::Cleared => "cleared",
    }
}

