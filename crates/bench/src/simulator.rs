//! A simulated DUT as a bench driver: the reference station (plug, pilot, reader, power,
//! network, circuit faults, its meter, its relays and inputs) and the reference CSMS (`csms-trigger`) carry out the
//! same capabilities through this interface that drivers carry out on real hardware. The
//! simulators implement it (crate `ocpp-sim`); the bench never knows their types.
use std::{future::Future, pin::Pin};

use crate::capability::Action;

/// What a driver's future looks like behind `dyn`.
pub type Acting<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

pub trait Simulator: Send + Sync {
    /// Whether it can carry out `capability` (a name of `CAPABILITIES`).
    fn offers(&self, capability: &str) -> bool;
    /// Carry out `action` (one whose capability it offers).
    fn act(&self, action: Action) -> Acting<'_>;
    /// Read a quantity from its meter: (value, unit).
    fn read_meter(&self, quantity: &str) -> Result<(f64, String), String> {
        Err(format!("this simulator has no meter for {quantity:?}"))
    }
    /// Read one of its lines: a relay it has been switched by (`input` false) or a digital
    /// input it exposes (`input` true), such as a contactor's auxiliary contact.
    fn read_line(&self, name: &str, input: bool) -> Result<bool, String> {
        let _ = input;
        Err(format!("this simulator has no line {name:?}"))
    }
    /// Bring it back to a safe state after a case; what it did, for the trace.
    fn safe_state(&self) -> Option<String> {
        None
    }
}
