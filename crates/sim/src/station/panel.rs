//! What a bench sees of the running station from outside, shared between the station's task
//! and its handles: whether it is registered, the energy through the feed of the EVSE under test
//! (a bench meter on it), the contactors' auxiliary contacts (digital inputs `contactor-N`) and the bench
//! relays wired to it (`tamper`: the cabinet's tamper switch; `load-shedding`: the grid
//! operator's load-shedding input, an external limit while on).
use std::{
    collections::BTreeMap,
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
    },
};

/// The relays a bench can switch on the reference station.
pub const RELAYS: &[&str] = &["tamper", "load-shedding"];

#[derive(Debug)]
pub struct Panel {
    booted: AtomicBool,
    /// Microseconds from the start to the first accepted BootNotification; 0 until then.
    registered_after_us: AtomicU64,
    /// Energy through EVSE 1 in Wh (f64 bits).
    meter_wh: AtomicU64,
    /// The power drawn through it now, in W (f64 bits).
    power_w: AtomicU64,
    /// Bit n-1 set: the contactor of EVSE n is closed.
    contactors: AtomicU32,
    relays: Mutex<BTreeMap<String, bool>>,
}

impl Default for Panel {
    fn default() -> Self {
        Panel {
            booted: AtomicBool::new(false),
            registered_after_us: AtomicU64::new(0),
            meter_wh: AtomicU64::new(1_000f64.to_bits()),
            power_w: AtomicU64::new(0f64.to_bits()),
            contactors: AtomicU32::new(0),
            relays: Mutex::default(),
        }
    }
}

impl Panel {
    pub fn is_booted(&self) -> bool {
        self.booted.load(Ordering::Relaxed)
    }

    pub(super) fn set_booted(&self, booted: bool) {
        self.booted.store(booted, Ordering::Relaxed);
    }

    pub fn registered_after_us(&self) -> u64 {
        self.registered_after_us.load(Ordering::Relaxed)
    }

    /// Record the first registration only.
    pub(super) fn registered(&self, us: u64) {
        let _ = self.registered_after_us.compare_exchange(0, us, Ordering::Relaxed, Ordering::Relaxed);
    }

    pub fn meter_wh(&self) -> f64 {
        f64::from_bits(self.meter_wh.load(Ordering::Relaxed))
    }

    pub(super) fn set_meter_wh(&self, wh: f64) {
        self.meter_wh.store(wh.to_bits(), Ordering::Relaxed);
    }

    pub fn power_w(&self) -> f64 {
        f64::from_bits(self.power_w.load(Ordering::Relaxed))
    }

    pub(super) fn set_power_w(&self, w: f64) {
        self.power_w.store(w.to_bits(), Ordering::Relaxed);
    }

    pub(super) fn set_contactor(&self, evse: u32, closed: bool) {
        let bit = 1u32 << (evse.saturating_sub(1) % 32);
        if closed { self.contactors.fetch_or(bit, Ordering::Relaxed) } else { self.contactors.fetch_and(!bit, Ordering::Relaxed) };
    }

    /// Whether the contactor of EVSE `evse` is closed.
    pub(super) fn contactor(&self, evse: u32) -> bool {
        self.contactors.load(Ordering::Relaxed) & (1u32 << (evse.saturating_sub(1) % 32)) != 0
    }

    /// A digital input by name: `contactor-N`, closed or open.
    pub fn input(&self, name: &str, evses: u32) -> Result<bool, String> {
        match name.strip_prefix("contactor-").and_then(|n| n.parse::<u32>().ok()).filter(|n| (1..=evses).contains(n)) {
            Some(evse) => Ok(self.contactor(evse)),
            None => Err(format!("the reference station has no input {name:?} (it has contactor-1 … contactor-{evses})")),
        }
    }

    /// Switch a relay (one of [`RELAYS`]).
    pub fn switch(&self, name: &str, on: bool) -> Result<(), String> {
        if !RELAYS.contains(&name) {
            return Err(format!("the reference station has no relay {name:?} (it has {})", RELAYS.join(", ")));
        }
        self.relays.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), on);
        Ok(())
    }

    /// A relay as last switched (off until then).
    pub fn relay(&self, name: &str) -> Result<bool, String> {
        if !RELAYS.contains(&name) {
            return Err(format!("the reference station has no relay {name:?} (it has {})", RELAYS.join(", ")));
        }
        Ok(self.relays.lock().unwrap_or_else(|e| e.into_inner()).get(name).copied().unwrap_or(false))
    }
}
