//! The reference DUTs as bench drivers (`ocpp_bench::Simulator`): the station's physical
//! inputs and meter, and the CSMS's operator actions, reached the way real hardware is.
use std::time::Duration;

use ocpp_bench::{Action, EvFault, Simulator, simulator::Acting};

use crate::{csms::CsmsHandle, station::StationHandle};

impl Simulator for StationHandle {
    fn offers(&self, capability: &str) -> bool {
        matches!(capability, "plug" | "pilot" | "token-reader" | "power-cycle" | "network" | "meter" | "ev-fault" | "relay" | "digital-input" | "ev-15118")
    }

    fn act(&self, action: Action) -> Acting<'_> {
        let done = match action {
            Action::Relay { name, on } => self.switch(&name, on),
            action => if self.send(action) { Ok(()) } else { Err("the simulated station is not running".into()) },
        };
        Box::pin(async move { done })
    }

    /// Its inputs are the contactors' auxiliary contacts (`contactor-N`); its relay `tamper`
    /// is wired to the cabinet's tamper switch.
    fn read_line(&self, name: &str, input: bool) -> Result<bool, String> {
        if input { self.input(name) } else { self.relay(name) }
    }

    /// Its meter sits on the feed of the EVSE under test: energy and the power drawn now.
    fn read_meter(&self, quantity: &str) -> Result<(f64, String), String> {
        match quantity {
            "energy-import" => Ok((self.meter_wh(), "Wh".to_string())),
            "power" => Ok((self.meter_power_w(), "W".to_string())),
            q => Err(format!("the simulated meter measures energy-import and power, not {q:?}")),
        }
    }

    fn safe_state(&self) -> Option<String> {
        for evse in 1..=8 {
            self.send(Action::Plug { evse, connected: false });
            self.send(Action::EvFault { evse, fault: EvFault::Cleared });
        }
        for relay in crate::station::RELAYS {
            let _ = self.switch(relay, false);
        }
        Some("simulated EVs unplugged (pilot A), circuit faults cleared, relays off".into())
    }
}

/// The reference CSMS's operator, acting on the connection of the station `station_id`.
pub struct CsmsOperator {
    pub csms: CsmsHandle,
    pub station_id: String,
}

/// How long an operator action waits for the station to be connected.
const CONNECTED_WITHIN: Duration = Duration::from_secs(2);

impl Simulator for CsmsOperator {
    fn offers(&self, capability: &str) -> bool {
        capability == "csms-trigger"
    }

    fn act(&self, action: Action) -> Acting<'_> {
        Box::pin(async move {
            match action {
                Action::CsmsTrigger { action, payload } => self.csms.send_call_when_connected(&self.station_id, &action, payload, CONNECTED_WITHIN).await,
                other => Err(format!("the simulated CSMS cannot {}", other.describe())),
            }
        })
    }
}
