//! The bench description (TOML, `run --bench FILE`): which driver carries out each capability
//! on this bench, and what puts the bench in a safe state. Parsed strictly.
//!
//! ```toml
//! [capabilities.plug]
//! driver = "command"
//! program = "/opt/lab/ev-sim"
//! args = ["cable", "{evse}", "{connected}"]
//! timeout-ms = 5000
//!
//! [capabilities.token-reader]
//! driver = "operator"          # a person presents the card; CI runs skip such cases
//!
//! [safe-state]
//! program = "/opt/lab/ev-sim"
//! args = ["reset"]
//! ```
use std::{collections::BTreeMap, path::Path};

use anyhow::Context as _;
use serde::Deserialize;

use super::CAPABILITIES;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BenchConfig {
    /// Capability name -> its driver.
    #[serde(default)]
    pub capabilities: BTreeMap<String, DriverConfig>,
    /// Run after every case, whatever its outcome: release relays, pilot to A...
    pub safe_state: Option<CommandSpec>,
    /// The same as an HTTP request (`[safe-state-http]`), e.g. to a DUT simulator's API.
    pub safe_state_http: Option<super::http::HttpSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "driver", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DriverConfig {
    /// A program per action: the escape hatch for any lab device.
    Command(CommandSpec),
    /// A person at the bench, prompted on the terminal; non-interactive runs skip the case.
    Operator {
        /// How long to wait for the operator's confirmation.
        #[serde(default = "default_operator_timeout", rename = "timeout-ms")]
        timeout_ms: u64,
    },
    /// A meter read over Modbus TCP or RTU through a register map (`map = "sdm630"`,
    /// `"sunspec"`); `modbus-tcp` is the name it had before RTU.
    #[serde(alias = "modbus-tcp")]
    ModbusMeter(super::modbus::MeterSpec),
    /// A Modbus relay board: named relays on coils, named inputs on discrete inputs.
    ModbusRelays(super::modbus::RelayBoardSpec),
    /// An HTTP request per action (a device's or a CSMS's REST API); for `meter`, a GET whose
    /// JSON answer holds the reading.
    Http(super::http::HttpSpec),
    /// An SCPI instrument over TCP: an EV emulator's commands per action, or a power
    /// analyser's queries per quantity for `meter`.
    Scpi(super::scpi::ScpiSpec),
    /// Relays and digital inputs on the bench PC's GPIO lines.
    Gpio(super::gpio::GpioSpec),
}

impl DriverConfig {
    /// The driver's name as a bench description writes it.
    pub fn name(&self) -> &'static str {
        match self {
            DriverConfig::Command(_) => "command",
            DriverConfig::Operator { .. } => "operator",
            DriverConfig::ModbusMeter(_) => "modbus-meter",
            DriverConfig::ModbusRelays(_) => "modbus-relays",
            DriverConfig::Http(_) => "http",
            DriverConfig::Scpi(_) => "scpi",
            DriverConfig::Gpio(_) => "gpio",
        }
    }
}

fn default_operator_timeout() -> u64 {
    120_000
}

fn default_command_timeout() -> u64 {
    10_000
}

/// A program and its arguments; `{evse}`, `{connected}`, `{state}`, `{token}`, `{up}`,
/// `{fault}`, `{action}` (a csms-trigger's OCPP action), `{payload}`, `{capability}`, `{request}`
/// and `{params}` (an ev-15118 request),
/// `{station}` and `{version}` in the arguments are filled in from the action and the run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CommandSpec {
    pub program: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default = "default_command_timeout")]
    pub timeout_ms: u64,
    /// Arguments for `bench check`: the same program run with these, harmlessly (a status
    /// query); exit status 0 means the device answers.
    pub probe: Option<Vec<String>>,
}

impl BenchConfig {
    pub fn load(path: &Path) -> anyhow::Result<BenchConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading the bench description {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in the bench description {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<BenchConfig> {
        let c: BenchConfig = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Some(name) = c.capabilities.keys().find(|k| !CAPABILITIES.iter().any(|(n, _)| n == k)) {
            let known: Vec<&str> = CAPABILITIES.iter().map(|(n, _)| *n).collect();
            anyhow::bail!("unknown capability {name:?}; known: {}", known.join(", "));
        }
        // Readings and relays have drivers of their own; actions have commands and operators.
        for (name, driver) in &c.capabilities {
            let fits = match driver {
                DriverConfig::ModbusMeter(_) => name == "meter",
                DriverConfig::ModbusRelays(_) => name == "relay" || name == "digital-input",
                DriverConfig::Scpi(spec) => {
                    spec.check(name).map_err(|e| anyhow::anyhow!("capability {name:?}: {e}"))?;
                    !["relay", "digital-input"].contains(&name.as_str())
                }
                DriverConfig::Gpio(spec) => {
                    spec.check(name).map_err(|e| anyhow::anyhow!("capability {name:?}: {e}"))?;
                    true
                }
                DriverConfig::Command(_) | DriverConfig::Operator { .. } => !["meter", "relay", "digital-input"].contains(&name.as_str()),
                DriverConfig::Http(h) => {
                    h.check().map_err(|e| anyhow::anyhow!("capability {name:?}: {e}"))?;
                    if (name == "meter" || name == "digital-input") && h.value_pointer.is_none() {
                        anyhow::bail!("capability {name:?} over http needs value-pointer (where the reading is in the JSON answer)");
                    }
                    if h.read_url.is_some() && name != "relay" {
                        anyhow::bail!("capability {name:?}: read-url is for reading a relay back");
                    }
                    true
                }
            };
            let link = match driver {
                DriverConfig::ModbusMeter(m) => Some(&m.link),
                DriverConfig::ModbusRelays(b) => Some(&b.link),
                _ => None,
            };
            if let Some(Err(e)) = link.map(super::modbus::Link::check) {
                anyhow::bail!("capability {name:?}: {e}");
            }
            if !fits {
                anyhow::bail!("capability {name:?} cannot use the {} driver: meter takes modbus-meter, scpi or http; relay and digital-input take modbus-relays, gpio or http; the others command, operator, http or scpi", driver.name());
            }
        }
        if let Some(h) = &c.safe_state_http {
            h.check().map_err(|e| anyhow::anyhow!("safe-state-http: {e}"))?;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_parse_strictly() {
        let c = BenchConfig::parse(
            r#"
            [capabilities.plug]
            driver = "command"
            program = "true"
            args = ["{evse}"]
            [capabilities.token-reader]
            driver = "operator"
            [safe-state]
            program = "true"
            "#,
        )
        .unwrap();
        assert!(matches!(c.capabilities["plug"], DriverConfig::Command(_)));
        assert!(matches!(c.capabilities["token-reader"], DriverConfig::Operator { timeout_ms: 120_000 }));
        let e = BenchConfig::parse("[capabilities.teleporter]\ndriver = \"operator\"").unwrap_err().to_string();
        assert!(e.contains("unknown capability") && e.contains("teleporter"), "{e}");
        let e = BenchConfig::parse("[capabilities.plug]\ndriver = \"command\"\nprogram = \"x\"\nargz = []").unwrap_err().to_string();
        assert!(e.contains("argz"), "{e}");
        let e = BenchConfig::parse("[capabilities.plug]\ndriver = \"relay-board\"").unwrap_err().to_string();
        assert!(e.contains("relay-board"), "{e}");
        let m = BenchConfig::parse("[capabilities.meter]\ndriver = \"modbus-tcp\"\naddress = \"10.0.0.9:502\"\nmap = \"sdm630\"").unwrap();
        assert!(matches!(m.capabilities["meter"], DriverConfig::ModbusMeter(_)));
        let e = BenchConfig::parse("[capabilities.meter]\ndriver = \"modbus-tcp\"\naddress = \"x:502\"\nmap = \"abb-b23\"").unwrap_err().to_string();
        assert!(e.contains("abb-b23"), "{e}");
        let e = BenchConfig::parse("[capabilities.plug]\ndriver = \"modbus-tcp\"\naddress = \"x:502\"\nmap = \"sdm630\"").unwrap_err().to_string();
        assert!(e.contains("meter"), "{e}");
        let r = BenchConfig::parse("[capabilities.relay]\ndriver = \"modbus-relays\"\naddress = \"10.0.0.7:502\"\nrelays = { contactor = 0, lock = 1 }").unwrap();
        assert!(matches!(&r.capabilities["relay"], DriverConfig::ModbusRelays(b) if b.relays["lock"] == 1));
        assert!(BenchConfig::parse("[capabilities.relay]\ndriver = \"operator\"").is_err());
        // RTU on a serial line; the link is checked and its keys strictly.
        let m = BenchConfig::parse("[capabilities.meter]\ndriver = \"modbus-meter\"\nserial = { path = \"/dev/ttyUSB0\", baud = 19200, parity = \"even\" }\nunit = 3\nmap = \"sunspec\"").unwrap();
        assert!(matches!(&m.capabilities["meter"], DriverConfig::ModbusMeter(s) if s.link.unit == 3 && s.link.serial.as_ref().unwrap().baud == 19200));
        let e = BenchConfig::parse("[capabilities.meter]\ndriver = \"modbus-meter\"\nmap = \"sdm630\"").unwrap_err().to_string();
        assert!(e.contains("exactly one of address"), "{e}");
        let e = BenchConfig::parse("[capabilities.meter]\ndriver = \"modbus-meter\"\naddress = \"x:502\"\nmap = \"sdm630\"\nbaud = 9600").unwrap_err().to_string();
        assert!(e.contains("baud"), "{e}");
        let e = BenchConfig::parse("[capabilities.relay]\ndriver = \"modbus-relays\"\nserial = { path = \"/dev/ttyS0\", speed = 9600 }").unwrap_err().to_string();
        assert!(e.contains("speed"), "{e}");
    }

    /// The example benches for SCPI, GPIO and an RTU gateway stay loadable.
    #[test]
    fn the_example_benches_parse() {
        let scpi = BenchConfig::parse(include_str!("../../../tests/bench/scpi-ev.toml")).unwrap();
        assert!(matches!(&scpi.capabilities["meter"], DriverConfig::Scpi(s) if s.quantities["energy-import"].scale == 1000.0));
        assert!(matches!(&scpi.capabilities["plug"], DriverConfig::Scpi(s) if s.commands == ["ROUT:CABL{evse} {onoff}"]));
        let gpio = BenchConfig::parse(include_str!("../../../tests/bench/gpio.toml")).unwrap();
        assert!(matches!(&gpio.capabilities["relay"], DriverConfig::Gpio(g) if g.relays.len() == 2));
        let gateway = BenchConfig::parse(include_str!("../../../tests/bench/modbus-gateway.toml")).unwrap();
        assert!(matches!(&gateway.capabilities["meter"], DriverConfig::ModbusMeter(m) if m.link.rtu_over_tcp.is_some() && m.link.unit == 2));
        // Drivers on capabilities they cannot serve, and incomplete SCPI or GPIO entries.
        let e = BenchConfig::parse("[capabilities.relay]\ndriver = \"scpi\"\naddress = \"x:5025\"\ncommands = [\"A\"]").unwrap_err().to_string();
        assert!(e.contains("cannot use the scpi driver"), "{e}");
        let e = BenchConfig::parse("[capabilities.meter]\ndriver = \"scpi\"\naddress = \"x:5025\"").unwrap_err().to_string();
        assert!(e.contains("needs [quantities]"), "{e}");
        let e = BenchConfig::parse("[capabilities.plug]\ndriver = \"gpio\"\nchip = \"gpiochip0\"\nrelays = { a = 1 }").unwrap_err().to_string();
        assert!(e.contains("not plug"), "{e}");
        let e = BenchConfig::parse("[capabilities.meter]\ndriver = \"modbus-meter\"\nmap = \"sdm630\"\naddress = \"x:502\"\nrtu-over-tcp = \"y:4001\"").unwrap_err().to_string();
        assert!(e.contains("exactly one of"), "{e}");
    }

    /// The example in the README stays loadable.
    #[test]
    fn the_example_lab_bench_parses() {
        let c = BenchConfig::parse(include_str!("../../../tests/bench/lab.toml")).unwrap();
        assert!(matches!(&c.capabilities["meter"], DriverConfig::ModbusMeter(m) if m.link.serial.is_some()));
        assert!(matches!(&c.capabilities["digital-input"], DriverConfig::ModbusRelays(b) if b.inputs.len() == 2));
        assert!(c.safe_state.is_some());
    }
}
