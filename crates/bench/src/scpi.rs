//! The `scpi` driver: an instrument that speaks SCPI over a raw TCP socket (port 5025 and the
//! like) — a power analyser read as the bench `meter`, or a programmable EV emulator that
//! plugs, sets the pilot and puts faults on the circuit. One connection per action; each
//! command is a template filled in from the action, each line ends with `terminator`, and the
//! instrument's error queue (`SYST:ERR?`) is read after the commands so that a command the
//! instrument refused fails the action instead of passing silently.
use std::{collections::BTreeMap, time::Duration};

use serde::Deserialize;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

/// One instrument and what the capability does on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ScpiSpec {
    /// host:port of the instrument's SCPI socket.
    pub address: String,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Sent after every command; answers end with it too.
    #[serde(default = "default_terminator")]
    pub terminator: String,
    /// Read the error queue after the commands (`SYST:ERR?` until `0,"No error"`).
    #[serde(default = "yes")]
    pub check_errors: bool,
    /// Actions (`plug`, `pilot`, `ev-fault`, `power-cycle`, `network`, `token-reader`): the
    /// commands sent, in order; `{evse}`, `{connected}`, `{onoff}` (ON/OFF), `{state}`,
    /// `{fault}`, `{token}`, `{up}` are filled in from the action.
    #[serde(default)]
    pub commands: Vec<String>,
    /// `meter`: quantity (`energy-import`, `power`, …) -> the query that reads it.
    #[serde(default)]
    pub quantities: BTreeMap<String, ScpiQuantity>,
    /// The query `bench check` identifies the instrument with.
    #[serde(default = "default_identify")]
    pub identify: String,
}

/// How one quantity is read: the query, the unit of the answer after `scale`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ScpiQuantity {
    pub query: String,
    pub unit: String,
    /// Factor from the instrument's number to `unit` (1000 for an instrument counting kWh
    /// when cases compare Wh).
    #[serde(default = "one")]
    pub scale: f64,
}

fn default_timeout() -> u64 {
    2_000
}

fn default_terminator() -> String {
    "\n".into()
}

fn yes() -> bool {
    true
}

fn one() -> f64 {
    1.0
}

fn default_identify() -> String {
    "*IDN?".into()
}

/// Answers longer than this are not SCPI: the instrument (or whatever answers) is broken.
const MAX_ANSWER: usize = 4096;
/// Errors read from the queue at most: an instrument that never says "no error" is broken.
const MAX_QUEUED_ERRORS: usize = 16;

impl ScpiSpec {
    /// Checked when the bench description is loaded: a capability gets what it needs.
    pub fn check(&self, capability: &str) -> Result<(), String> {
        if self.terminator.is_empty() {
            return Err("terminator must not be empty".into());
        }
        match capability {
            "meter" if self.quantities.is_empty() => Err("meter over scpi needs [quantities] (e.g. energy-import = { query = \"MEAS:ENER?\", unit = \"Wh\" })".into()),
            "meter" if !self.commands.is_empty() => Err("meter over scpi reads quantities; commands are for actions".into()),
            "meter" => Ok(()),
            _ if self.commands.is_empty() => Err(format!("{capability} over scpi needs commands (the lines to send)")),
            _ if !self.quantities.is_empty() => Err(format!("{capability} is an action: quantities are for meter")),
            _ => Ok(()),
        }
    }
}

/// One open connection to the instrument.
struct Session<'a> {
    spec: &'a ScpiSpec,
    io: BufReader<TcpStream>,
}

impl<'a> Session<'a> {
    async fn open(spec: &'a ScpiSpec) -> Result<Session<'a>, String> {
        let stream = TcpStream::connect(&spec.address).await.map_err(|e| format!("cannot connect: {e}"))?;
        let _ = stream.set_nodelay(true);
        Ok(Session { spec, io: BufReader::new(stream) })
    }

    async fn send(&mut self, line: &str) -> Result<(), String> {
        let text = format!("{line}{}", self.spec.terminator);
        self.io.get_mut().write_all(text.as_bytes()).await.map_err(|e| format!("sending {line:?}: {e}"))
    }

    /// Send a query and read its one-line answer.
    async fn query(&mut self, line: &str) -> Result<String, String> {
        self.send(line).await?;
        let end = *self.spec.terminator.as_bytes().last().expect("checked non-empty");
        let mut answer = Vec::new();
        let mut limited = (&mut self.io).take(MAX_ANSWER as u64 + 1);
        limited.read_until(end, &mut answer).await.map_err(|e| format!("reading the answer to {line:?}: {e}"))?;
        if answer.is_empty() {
            return Err(format!("the instrument closed the connection instead of answering {line:?}"));
        }
        if answer.len() > MAX_ANSWER || !answer.ends_with(&[end]) {
            return Err(format!("the answer to {line:?} is not a line of SCPI (over {MAX_ANSWER} bytes or unterminated)"));
        }
        let text = String::from_utf8(answer).map_err(|_| format!("the answer to {line:?} is not text"))?;
        Ok(text.trim_end_matches(self.spec.terminator.as_str()).trim().to_string())
    }

    /// Read the error queue until it is empty: the errors found.
    async fn errors(&mut self) -> Result<Vec<String>, String> {
        let mut errors = vec![];
        for _ in 0..MAX_QUEUED_ERRORS {
            let e = self.query("SYST:ERR?").await?;
            let code = e.split(',').next().unwrap_or_default().trim().trim_start_matches('+');
            match code.parse::<i32>() {
                Ok(0) => return Ok(errors),
                Ok(_) => errors.push(e),
                Err(_) => return Err(format!("SYST:ERR? answered {e:?}, not an error code and message")),
            }
        }
        Err(format!("the error queue did not empty after {MAX_QUEUED_ERRORS} reads: {}", errors.join("; ")))
    }

    /// Fail with the instrument's errors, if it reports any.
    async fn no_errors(&mut self, after: &str) -> Result<(), String> {
        if !self.spec.check_errors {
            return Ok(());
        }
        let errors = self.errors().await?;
        if errors.is_empty() { Ok(()) } else { Err(format!("the instrument refused {after}: {}", errors.join("; "))) }
    }
}

/// Run `work` under the spec's time-out; errors name the instrument.
async fn within<T>(spec: &ScpiSpec, work: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    let device = format!("SCPI instrument at {}", spec.address);
    match tokio::time::timeout(Duration::from_millis(spec.timeout_ms), work).await {
        Ok(r) => r.map_err(|e| format!("{device}: {e}")),
        Err(_) => Err(format!("{device}: no answer within {} ms", spec.timeout_ms)),
    }
}

/// The commands for an action, with these placeholder values.
pub fn lines(spec: &ScpiSpec, values: &[(&str, String)]) -> Vec<String> {
    spec.commands.iter().map(|c| values.iter().fold(c.clone(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v))).collect()
}

/// Carry out an action: send its commands, then make sure the instrument took them.
pub async fn run(spec: &ScpiSpec, values: &[(&str, String)]) -> Result<(), String> {
    let lines = lines(spec, values);
    within(spec, async {
        let mut s = Session::open(spec).await?;
        for line in &lines {
            s.send(line).await?;
        }
        s.no_errors(&lines.join("; ")).await
    })
    .await
}

/// Read a quantity: (value in its unit, unit).
pub async fn read(spec: &ScpiSpec, quantity: &str) -> Result<(f64, String), String> {
    let Some(q) = spec.quantities.get(quantity) else {
        return Err(format!("SCPI instrument at {} has no quantity {quantity:?} (known: {})", spec.address, spec.quantities.keys().cloned().collect::<Vec<_>>().join(", ")));
    };
    within(spec, async {
        let mut s = Session::open(spec).await?;
        let answer = s.query(&q.query).await?;
        let value: f64 = answer.parse().map_err(|_| format!("{} answered {answer:?}, not a number", q.query))?;
        s.no_errors(&q.query).await?;
        Ok((value * q.scale, q.unit.clone()))
    })
    .await
}

/// What the instrument says it is (`*IDN?`), with its error queue empty.
pub async fn identify(spec: &ScpiSpec) -> Result<String, String> {
    within(spec, async {
        let mut s = Session::open(spec).await?;
        let idn = s.query(&spec.identify).await?;
        s.no_errors(&spec.identify).await?;
        Ok(idn)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{Instrument, Reply};

    fn spec(address: String) -> ScpiSpec {
        toml::from_str(&format!("address = \"{address}\"\ntimeout-ms = 500\ncommands = [\"EV:PLUG {{evse}},{{onoff}}\"]\n[quantities.energy-import]\nquery = \"MEAS:ENER?\"\nunit = \"Wh\"\nscale = 1000.0")).unwrap()
    }

    #[tokio::test]
    async fn commands_go_out_filled_in_and_refusals_fail_the_action() {
        let fake = Instrument::start(|line| match line {
            "*IDN?" => Reply::Answer("ACME,EV-EMU 3,SN42,1.0".into()),
            "MEAS:ENER?" => Reply::Answer("+1.2345E+01".into()),
            l if l.starts_with("EV:PLUG") => Reply::Done,
            _ => Reply::Refuse("-113,\"Undefined header\"".into()),
        })
        .await;
        let s = spec(fake.address());
        run(&s, &[("evse", "1".into()), ("onoff", "ON".into())]).await.unwrap();
        assert!(fake.received().contains(&"EV:PLUG 1,ON".to_string()), "{:?}", fake.received());
        assert_eq!(read(&s, "energy-import").await.unwrap(), (12_345.0, "Wh".to_string()));
        assert_eq!(identify(&s).await.unwrap(), "ACME,EV-EMU 3,SN42,1.0");
        let refused = ScpiSpec { commands: vec!["EV:TELEPORT".into()], ..s.clone() };
        let e = run(&refused, &[]).await.unwrap_err();
        assert!(e.contains("refused EV:TELEPORT") && e.contains("-113"), "{e}");
        assert!(read(&s, "power").await.unwrap_err().contains("no quantity \"power\""));
    }

    #[tokio::test]
    async fn silent_garbled_and_absent_instruments_fail_clearly() {
        let silent = Instrument::start(|_| Reply::Silence).await;
        let e = identify(&spec(silent.address())).await.unwrap_err();
        assert!(e.contains("no answer within 500 ms"), "{e}");
        let garbage = Instrument::start(|_| Reply::Answer("\u{1}\u{2}NaN-ish".into())).await;
        let e = read(&spec(garbage.address()), "energy-import").await.unwrap_err();
        assert!(e.contains("not a number"), "{e}");
        let flood = Instrument::start(|_| Reply::Raw(vec![b'x'; 10_000])).await;
        let e = identify(&spec(flood.address())).await.unwrap_err();
        assert!(e.contains("not a line of SCPI"), "{e}");
        let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let e = identify(&spec(nobody.to_string())).await.unwrap_err();
        assert!(e.contains("cannot connect"), "{e}");
    }

    #[test]
    fn descriptions_are_checked() {
        let s = spec("127.0.0.1:5025".into());
        assert!(s.check("plug").unwrap_err().contains("quantities are for meter"));
        let meter = ScpiSpec { commands: vec![], ..s.clone() };
        assert!(meter.check("meter").is_ok());
        assert!(ScpiSpec { quantities: BTreeMap::new(), ..meter.clone() }.check("meter").unwrap_err().contains("needs [quantities]"));
        let plug = ScpiSpec { quantities: BTreeMap::new(), ..s.clone() };
        assert!(plug.check("plug").is_ok());
        assert!(ScpiSpec { terminator: String::new(), ..plug }.check("plug").unwrap_err().contains("terminator"));
    }
}
