//! The `gpio` driver: relays and digital inputs on a bench PC's GPIO lines, through the Linux
//! GPIO character device (`/dev/gpiochipN`, crate gpiocdev). A relay line stays requested as
//! an output once switched, so it keeps its state between cases (the kernel would release it
//! with the request); `active-low` inverts a line for boards that switch on low, and `pulse-ms`
//! makes a switch-on a pulse (a latching release, a door strike).
use std::{
    collections::{BTreeMap, HashMap},
    sync::{LazyLock, Mutex},
    time::Duration,
};

use gpiocdev::line::Value;
use serde::Deserialize;

/// The lines of one chip that the bench uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GpioSpec {
    /// The chip: a path (`/dev/gpiochip0`) or a chip name (`gpiochip0`).
    pub chip: String,
    /// Relay name -> its output line.
    #[serde(default)]
    pub relays: BTreeMap<String, Line>,
    /// Input name -> its input line.
    #[serde(default)]
    pub inputs: BTreeMap<String, Line>,
}

/// A line: its offset on the chip, or the offset with options.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum Line {
    Offset(u32),
    With(LineOptions),
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LineOptions {
    pub line: u32,
    #[serde(default)]
    pub active_low: bool,
    /// Outputs only: "on" is a pulse this long, then the line goes back off.
    pub pulse_ms: Option<u64>,
}

impl Line {
    fn options(self) -> LineOptions {
        match self {
            Line::Offset(line) => LineOptions { line, active_low: false, pulse_ms: None },
            Line::With(o) => o,
        }
    }
}

impl GpioSpec {
    /// Checked when the bench description is loaded.
    pub fn check(&self, capability: &str) -> Result<(), String> {
        if self.chip.trim().is_empty() {
            return Err("chip is empty (a path like /dev/gpiochip0 or a name like gpiochip0)".into());
        }
        let (named, other, kind) = match capability {
            "relay" => (&self.relays, &self.inputs, "relays"),
            "digital-input" => (&self.inputs, &self.relays, "inputs"),
            c => return Err(format!("gpio drives relay and digital-input, not {c}")),
        };
        if named.is_empty() {
            return Err(format!("{capability} over gpio names no {kind}"));
        }
        if !other.is_empty() {
            return Err(format!("{capability} over gpio takes {kind} only; describe the others under their own capability"));
        }
        let mut seen = HashMap::new();
        for (name, l) in named {
            let o = l.options();
            if let Some(first) = seen.insert(o.line, name) {
                return Err(format!("{name} and {first} are both line {}", o.line));
            }
            if o.pulse_ms.is_some() && capability == "digital-input" {
                return Err(format!("input {name}: pulse-ms is for relays"));
            }
            if o.pulse_ms == Some(0) {
                return Err(format!("relay {name}: pulse-ms must be above 0"));
            }
        }
        Ok(())
    }

    fn path(&self) -> std::path::PathBuf {
        if self.chip.starts_with('/') { self.chip.clone().into() } else { std::path::Path::new("/dev").join(&self.chip) }
    }

    fn device(&self) -> String {
        format!("GPIO chip {}", self.path().display())
    }

    /// The line of relay `name`, or of input `name` when `input`.
    fn line(&self, name: &str, input: bool) -> Result<LineOptions, String> {
        let (lines, kind) = if input { (&self.inputs, "input") } else { (&self.relays, "relay") };
        lines.get(name).map(|l| l.options()).ok_or_else(|| format!("{} has no {kind} {name:?} (known: {})", self.device(), lines.keys().cloned().collect::<Vec<_>>().join(", ")))
    }

    /// Request `line` from the kernel: as an output driven to `output`, or as an input.
    fn request(&self, name: &str, kind: &str, line: LineOptions, output: Option<Value>) -> Result<gpiocdev::Request, String> {
        let mut b = gpiocdev::Request::builder();
        b.on_chip(self.path()).with_consumer("ocpp-harness").with_line(line.line);
        match output {
            Some(v) => b.as_output(v),
            None => b.as_input(),
        };
        if line.active_low {
            b.as_active_low();
        }
        let direction = if output.is_some() { "an output" } else { "an input" };
        b.request().map_err(|e| format!("{}: requesting {kind} {name} (line {}) as {direction}: {e}", self.device(), line.line))
    }
}

/// Output lines requested so far, by (chip path, offset): held for the life of the process.
static HELD: LazyLock<Mutex<HashMap<(std::path::PathBuf, u32), gpiocdev::Request>>> = LazyLock::new(Mutex::default);

/// "On" is the line's active level: gpiocdev applies active-low itself.
fn value(on: bool) -> Value {
    if on { Value::Active } else { Value::Inactive }
}

/// Drive relay `name` on or off (a pulse if the line says so); the state it is left in.
pub async fn set_relay(spec: &GpioSpec, name: &str, on: bool) -> Result<bool, String> {
    let line = spec.line(name, false)?;
    let pulse = line.pulse_ms.filter(|_| on);
    let (s, n) = (spec.clone(), name.to_string());
    blocking(move || drive(&s, &n, line, on)).await?;
    if let Some(ms) = pulse {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let (s, n) = (spec.clone(), name.to_string());
        blocking(move || drive(&s, &n, line, false)).await?;
    }
    Ok(on && pulse.is_none())
}

/// Set the output line of relay `name`, requesting it the first time.
fn drive(spec: &GpioSpec, name: &str, line: LineOptions, on: bool) -> Result<(), String> {
    let mut held = HELD.lock().unwrap();
    let key = (spec.path(), line.line);
    if let Some(req) = held.get(&key) {
        return req.set_value(line.line, value(on)).map_err(|e| format!("{}: switching relay {name} (line {}): {e}", spec.device(), line.line));
    }
    let req = spec.request(name, "relay", line, Some(value(on)))?;
    held.insert(key, req);
    Ok(())
}

/// Read relay `name` back (as driven), or input `name` when `input`.
pub async fn read(spec: &GpioSpec, name: &str, input: bool) -> Result<bool, String> {
    let spec = spec.clone();
    let name = name.to_string();
    blocking(move || {
        let kind = if input { "input" } else { "relay" };
        let line = spec.line(&name, input)?;
        let reading = |req: &gpiocdev::Request| req.value(line.line).map(|v| v == Value::Active).map_err(|e| format!("{}: reading {kind} {name} (line {}): {e}", spec.device(), line.line));
        if let Some(req) = HELD.lock().unwrap().get(&(spec.path(), line.line)) {
            return reading(req);
        }
        reading(&spec.request(&name, kind, line, None)?)
    })
    .await
}

/// What `bench check` says of the chip: its name, label and line count, with every named line
/// on it.
pub async fn identify(spec: &GpioSpec) -> Result<String, String> {
    let spec = spec.clone();
    blocking(move || {
        let chip = gpiocdev::Chip::from_path(spec.path()).map_err(|e| format!("{}: cannot open: {e}", spec.device()))?;
        let info = chip.info().map_err(|e| format!("{}: cannot read its info: {e}", spec.device()))?;
        if let Some((name, l)) = spec.relays.iter().chain(&spec.inputs).find(|(_, l)| l.options().line >= info.num_lines) {
            return Err(format!("{}: {name} is line {}, and the chip has {} lines", spec.device(), l.options().line, info.num_lines));
        }
        Ok(format!("{} [{}], {} lines", info.name, info.label, info.num_lines))
    })
    .await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f).await.map_err(|e| format!("the GPIO task failed: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> GpioSpec {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn descriptions_are_checked() {
        let s = parse("chip = \"gpiochip0\"\nrelays = { contactor = 17, lock = { line = 27, active-low = true, pulse-ms = 500 } }");
        s.check("relay").unwrap();
        assert_eq!(s.path(), std::path::Path::new("/dev/gpiochip0"));
        assert!(matches!(s.relays["lock"], Line::With(LineOptions { line: 27, active_low: true, pulse_ms: Some(500) })));
        assert!(s.check("digital-input").unwrap_err().contains("names no inputs"));
        assert!(s.check("plug").unwrap_err().contains("not plug"));
        let twice = parse("chip = \"/dev/gpiochip1\"\nrelays = { a = 3, b = { line = 3 } }");
        assert!(twice.check("relay").unwrap_err().contains("both line 3"));
        let pulsed_input = parse("chip = \"gpiochip0\"\ninputs = { door = { line = 4, pulse-ms = 10 } }");
        assert!(pulsed_input.check("digital-input").unwrap_err().contains("pulse-ms is for relays"));
        assert!(toml::from_str::<GpioSpec>("chip = \"gpiochip0\"\nrelays = { a = { line = 1, active_high = true } }").is_err());
        assert!(toml::from_str::<GpioSpec>("chip = \"gpiochip0\"\npins = {}").is_err());
    }

    /// Without a chip (no /dev/gpiochip here), every operation says which chip it could not open.
    #[tokio::test]
    async fn a_missing_chip_fails_clearly() {
        let s = parse("chip = \"/dev/gpiochip-none\"\nrelays = { contactor = 1 }\ninputs = { door = 2 }");
        let e = identify(&s).await.unwrap_err();
        assert!(e.contains("GPIO chip /dev/gpiochip-none: cannot open"), "{e}");
        let e = set_relay(&s, "contactor", true).await.unwrap_err();
        assert!(e.contains("/dev/gpiochip-none") && e.contains("relay contactor"), "{e}");
        assert!(read(&s, "door", true).await.unwrap_err().contains("input door"));
        assert!(set_relay(&s, "fan", true).await.unwrap_err().contains("no relay \"fan\""));
    }
}
