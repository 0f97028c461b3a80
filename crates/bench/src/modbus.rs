//! Modbus drivers (tokio-modbus): a bench energy meter read through a register map, and a
//! relay board. Each device sits on Modbus TCP (`address`), on a serial line with RTU framing
//! (`serial`), or behind a serial-to-Ethernet gateway that passes RTU frames over TCP
//! (`rtu-over-tcp`). Device faults (no answer, exception responses, a connection refused, a port that
//! does not open) come back as clear failures naming the device and register.
use std::time::Duration;

use serde::Deserialize;
use tokio_modbus::prelude::*;

/// Meter models with a built-in register map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MeterMap {
    /// Eastron SDM630: input registers, IEEE 754 float32, high word first.
    Sdm630,
    /// Any SunSpec meter with an integer + scale factor model (201-204), found by walking the
    /// SunSpec model chain from `sunspec-base`.
    Sunspec,
}

/// Quantities a case can ask for.
const QUANTITIES: &str = "energy-import, energy-export, power, voltage-l1, current-l1";

/// Where an SDM630 quantity lives: first input register, and the factor to the reported unit.
fn sdm630(quantity: &str) -> Option<(u16, f64, &'static str)> {
    Some(match quantity {
        "voltage-l1" => (0x0000, 1.0, "V"),
        "current-l1" => (0x0006, 1.0, "A"),
        "power" => (0x0034, 1.0, "W"),
        // The meter counts kWh; cases compare Wh.
        "energy-import" => (0x0048, 1000.0, "Wh"),
        "energy-export" => (0x004A, 1000.0, "Wh"),
        _ => return None,
    })
}

/// A SunSpec quantity in models 201-204: (offset of the value from the model id, offset of its
/// scale factor, registers: 1 = int16/uint16, 2 = acc32, unit).
fn sunspec(quantity: &str) -> Option<(u16, u16, u16, &'static str)> {
    Some(match quantity {
        "current-l1" => (3, 6, 1, "A"),
        "voltage-l1" => (8, 15, 1, "V"),
        "power" => (18, 22, 1, "W"),
        "energy-export" => (38, 54, 2, "Wh"),
        "energy-import" => (46, 54, 2, "Wh"),
        _ => return None,
    })
}

/// A serial line for Modbus RTU (8 data bits).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SerialLine {
    /// The port, e.g. /dev/ttyUSB0.
    pub path: String,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default)]
    pub parity: Parity,
    #[serde(default = "default_stop_bits")]
    pub stop_bits: u8,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Parity {
    #[default]
    None,
    Even,
    Odd,
}

fn default_baud() -> u32 {
    9600
}

fn default_stop_bits() -> u8 {
    1
}

/// How a device is reached: exactly one of `address` (Modbus TCP), `serial` (RTU) and
/// `rtu-over-tcp` (RTU frames through a gateway's TCP port). Specs
/// flatten it, where serde cannot deny unknown keys: they land in `unknown` and `check` refuses them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Link {
    /// host:port of the device (or its gateway).
    pub address: Option<String>,
    pub serial: Option<SerialLine>,
    /// host:port of a gateway that passes RTU frames over TCP unchanged.
    pub rtu_over_tcp: Option<String>,
    /// Modbus unit (slave) id.
    #[serde(default = "default_unit")]
    pub unit: u8,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    #[serde(flatten)]
    pub unknown: std::collections::BTreeMap<String, toml::Value>,
}

impl Link {
    /// Checked when the bench description is loaded.
    pub fn check(&self) -> Result<(), String> {
        if !self.unknown.is_empty() {
            return Err(format!("unknown key(s): {}", self.unknown.keys().cloned().collect::<Vec<_>>().join(", ")));
        }
        if [self.address.is_some(), self.serial.is_some(), self.rtu_over_tcp.is_some()].iter().filter(|x| **x).count() != 1 {
            return Err("give exactly one of address (Modbus TCP), serial (Modbus RTU) and rtu-over-tcp (RTU through a gateway)".into());
        }
        if let Some(s) = &self.serial
            && !(1..=2).contains(&s.stop_bits)
        {
            return Err(format!("stop-bits must be 1 or 2, not {}", s.stop_bits));
        }
        Ok(())
    }

    /// Names the device in errors: "meter at 10.0.0.9:502 unit 1", "meter on /dev/ttyUSB0 unit 3".
    pub fn device(&self, what: &str) -> String {
        match (&self.address, &self.serial, &self.rtu_over_tcp) {
            (Some(a), _, _) => format!("{what} at {a} unit {}", self.unit),
            (None, Some(s), _) => format!("{what} on {} unit {}", s.path, self.unit),
            (None, None, Some(g)) => format!("{what} behind the RTU gateway {g} unit {}", self.unit),
            (None, None, None) => format!("{what} (no address)"),
        }
    }

    /// Open the link (`device` names it in errors).
    async fn connect(&self, device: &str) -> Result<client::Context, String> {
        if let (None, None, Some(gateway)) = (&self.address, &self.serial, &self.rtu_over_tcp) {
            let stream = tokio::net::TcpStream::connect(gateway).await.map_err(|e| format!("{device}: cannot connect: {e}"))?;
            let _ = stream.set_nodelay(true);
            return Ok(rtu::attach_slave(stream, Slave(self.unit)));
        }
        match (&self.address, &self.serial) {
            (Some(address), _) => {
                let addr = tokio::net::lookup_host(address).await.ok().and_then(|mut a| a.next()).ok_or_else(|| format!("{device}: cannot resolve {address:?}"))?;
                tcp::connect_slave(addr, Slave(self.unit)).await.map_err(|e| format!("{device}: cannot connect: {e}"))
            }
            (None, Some(line)) => {
                use tokio_serial::{DataBits, SerialPortBuilderExt, StopBits};
                let parity = match line.parity {
                    Parity::None => tokio_serial::Parity::None,
                    Parity::Even => tokio_serial::Parity::Even,
                    Parity::Odd => tokio_serial::Parity::Odd,
                };
                let stop = if line.stop_bits == 2 { StopBits::Two } else { StopBits::One };
                let port = tokio_serial::new(&line.path, line.baud)
                    .data_bits(DataBits::Eight)
                    .parity(parity)
                    .stop_bits(stop)
                    .open_native_async()
                    .map_err(|e| format!("{device}: cannot open the serial port: {e}"))?;
                Ok(rtu::attach_slave(port, Slave(self.unit)))
            }
            (None, None) => Err(format!("{device}: no address")),
        }
    }
}

/// Unknown keys are refused by the flattened `Link`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MeterSpec {
    #[serde(flatten)]
    pub link: Link,
    pub map: MeterMap,
    /// First register of the SunSpec block ("SunS").
    #[serde(default = "default_sunspec_base")]
    pub sunspec_base: u16,
}

fn default_unit() -> u8 {
    1
}

fn default_timeout() -> u64 {
    2_000
}

fn default_sunspec_base() -> u16 {
    40_000
}

/// Bound a whole exchange with a device, so a silent one cannot stall a case.
async fn within<T>(timeout_ms: u64, device: &str, io: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(Duration::from_millis(timeout_ms), io).await.map_err(|_| format!("{device}: no answer within {timeout_ms} ms"))?
}

/// Read `count` registers of one kind, turning transport errors and exceptions into messages.
async fn registers(ctx: &mut client::Context, device: &str, holding: bool, address: u16, count: u16) -> Result<Vec<u16>, String> {
    let kind = if holding { "holding" } else { "input" };
    let r = if holding { ctx.read_holding_registers(address, count).await } else { ctx.read_input_registers(address, count).await };
    let words = r.map_err(|e| format!("{device}: reading {kind} register {address:#06x}: {e}"))?.map_err(|code| format!("{device}: exception {code:?} for {kind} register {address:#06x}"))?;
    if words.len() != usize::from(count) {
        return Err(format!("{device}: {} registers instead of {count} at {address:#06x}", words.len()));
    }
    Ok(words)
}

/// Find the first SunSpec meter model (201-204) after `base`: its first register and length.
async fn sunspec_meter(ctx: &mut client::Context, device: &str, base: u16) -> Result<(u16, u16), String> {
    let marker = registers(ctx, device, true, base, 2).await?;
    if marker != [0x5375, 0x6E53] {
        return Err(format!("{device}: no SunSpec marker \"SunS\" at {base}"));
    }
    let mut at = base.checked_add(2);
    // A chain longer than this is a broken device, not a meter.
    for _ in 0..64 {
        let Some(addr) = at else { break };
        let [id, len] = registers(ctx, device, true, addr, 2).await?[..] else { unreachable!() };
        match id {
            0xFFFF => break,
            201..=204 => return Ok((addr, len)),
            _ => at = addr.checked_add(2).and_then(|a| a.checked_add(len)),
        }
    }
    Err(format!("{device}: no SunSpec meter model (201-204) in the model chain from {base}"))
}

/// A SunSpec scale factor: a signed power of ten; 0x8000 means "not implemented".
fn scaled(raw: f64, sf: u16, device: &str, quantity: &str) -> Result<f64, String> {
    if sf == 0x8000 {
        return Err(format!("{device}: the meter does not implement {quantity} (scale factor not implemented)"));
    }
    Ok(raw * 10f64.powi(i32::from(sf as i16)))
}

/// Read one quantity: (value, unit).
pub async fn read(spec: &MeterSpec, quantity: &str) -> Result<(f64, &'static str), String> {
    let unknown = || format!("the {:?} map has no quantity {quantity:?} ({QUANTITIES})", spec.map);
    let device = spec.link.device("meter");
    let io = async {
        let mut ctx = spec.link.connect(&device).await?;
        let value = match spec.map {
            MeterMap::Sdm630 => {
                let (address, factor, unit) = sdm630(quantity).ok_or_else(unknown)?;
                let [hi, lo] = registers(&mut ctx, &device, false, address, 2).await?[..] else { unreachable!() };
                let value = f32::from_bits((u32::from(hi) << 16) | u32::from(lo));
                (f64::from(value) * factor, unit)
            }
            MeterMap::Sunspec => {
                let (offset, sf_offset, width, unit) = sunspec(quantity).ok_or_else(unknown)?;
                let (model, len) = sunspec_meter(&mut ctx, &device, spec.sunspec_base).await?;
                if sf_offset >= len + 2 {
                    return Err(format!("{device}: SunSpec model at {model} is too short ({len} registers) for {quantity}"));
                }
                let block = registers(&mut ctx, &device, true, model, sf_offset + 1).await?;
                let at = usize::from(offset);
                let raw = match width {
                    1 if unit == "V" => f64::from(block[at]),
                    1 => f64::from(block[at] as i16),
                    _ => f64::from((u32::from(block[at]) << 16) | u32::from(block[at + 1])),
                };
                (scaled(raw, block[usize::from(sf_offset)], &device, quantity)?, unit)
            }
        };
        let _ = ctx.disconnect().await;
        Ok(value)
    };
    within(spec.link.timeout_ms, &device, io).await
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeMap, future, net::SocketAddr};

    use tokio::net::TcpListener;

    use super::*;

    /// A device model: input and holding registers by address; a read that touches an address
    /// the model lacks gets IllegalDataAddress, and a `broken` device answers every read with
    /// ServerDeviceFailure.
    #[derive(Clone, Default)]
    struct Registers {
        input: BTreeMap<u16, u16>,
        holding: BTreeMap<u16, u16>,
        broken: bool,
    }

    impl Registers {
        fn float(mut self, address: u16, v: f32) -> Self {
            self.input.insert(address, (v.to_bits() >> 16) as u16);
            self.input.insert(address + 1, v.to_bits() as u16);
            self
        }

        /// An Eastron SDM630 with fixed readings.
        fn sdm630() -> Self {
            Self::default().float(0x0000, 230.5).float(0x0006, 16.0).float(0x0034, 11_040.0).float(0x0048, 12.345).float(0x004A, 0.5)
        }

        /// A SunSpec device: "SunS", a common model (1), a wye meter (203), the end marker.
        fn sunspec() -> Self {
            let mut words = vec![0x5375, 0x6E53, 1, 66];
            words.extend([0u16; 66]);
            let mut meter = vec![0u16; 107];
            meter[0] = 203;
            meter[1] = 105;
            meter[3] = 16; // current-l1, A_SF 0x8000: not implemented
            meter[6] = 0x8000;
            meter[8] = 2305; // voltage-l1 with V_SF -1
            meter[15] = (-1i16) as u16;
            meter[18] = (-1500i16) as u16; // exporting 1.5 kW
            meter[22] = 0;
            meter[46] = 0x0001; // import 0x0001_E240 = 123456 with TotWh_SF 1
            meter[47] = 0xE240;
            meter[54] = 1;
            words.extend(meter);
            words.extend([0xFFFF, 0]);
            Self { holding: words.into_iter().enumerate().map(|(i, w)| (40_000 + i as u16, w)).collect(), ..Self::default() }
        }
    }

    impl tokio_modbus::server::Service for Registers {
        type Request = Request<'static>;
        type Response = Response;
        type Exception = ExceptionCode;
        type Future = future::Ready<Result<Response, ExceptionCode>>;

        fn call(&self, req: Self::Request) -> Self::Future {
            let read = |map: &BTreeMap<u16, u16>, a: u16, n: u16| (a..a + n).map(|a| map.get(&a).copied().ok_or(ExceptionCode::IllegalDataAddress)).collect::<Result<Vec<_>, _>>();
            future::ready(match req {
                _ if self.broken => Err(ExceptionCode::ServerDeviceFailure),
                Request::ReadInputRegisters(a, n) => read(&self.input, a, n).map(Response::ReadInputRegisters),
                Request::ReadHoldingRegisters(a, n) => read(&self.holding, a, n).map(Response::ReadHoldingRegisters),
                _ => Err(ExceptionCode::IllegalFunction),
            })
        }
    }

    pub(super) use crate::fake::serve_modbus_tcp as serve;

    pub(super) fn tcp(addr: SocketAddr) -> Link {
        Link { address: Some(addr.to_string()), serial: None, rtu_over_tcp: None, unit: 1, timeout_ms: 1_000, unknown: BTreeMap::new() }
    }

    fn meter(link: Link, map: MeterMap) -> MeterSpec {
        MeterSpec { link, map, sunspec_base: 40_000 }
    }

    #[tokio::test]
    async fn reads_an_sdm630_through_its_map() {
        let s = meter(tcp(serve(Registers::sdm630()).await), MeterMap::Sdm630);
        let (wh, unit) = read(&s, "energy-import").await.unwrap();
        assert_eq!(unit, "Wh");
        assert!((wh - 12_345.0).abs() < 0.1, "{wh}");
        assert_eq!(read(&s, "voltage-l1").await.unwrap(), (230.5, "V"));
        assert_eq!(read(&s, "energy-export").await.unwrap(), (500.0, "Wh"));
        assert!(read(&s, "frequency").await.unwrap_err().contains("no quantity"));
    }

    #[tokio::test]
    async fn finds_the_sunspec_meter_model_and_applies_scale_factors() {
        let s = meter(tcp(serve(Registers::sunspec()).await), MeterMap::Sunspec);
        assert_eq!(read(&s, "energy-import").await.unwrap(), (1_234_560.0, "Wh"));
        assert_eq!(read(&s, "voltage-l1").await.unwrap(), (230.5, "V"));
        assert_eq!(read(&s, "power").await.unwrap(), (-1500.0, "W"));
        let e = read(&s, "current-l1").await.unwrap_err();
        assert!(e.contains("does not implement current-l1"), "{e}");
        // No marker where the description says the SunSpec block starts.
        let e = read(&MeterSpec { sunspec_base: 30_000, ..s.clone() }, "power").await.unwrap_err();
        assert!(e.contains("exception") && e.contains("holding register 0x7530"), "{e}");
        // A SunSpec device without a meter model.
        let mut inverter = Registers::sunspec();
        inverter.holding.insert(40_070, 103);
        let e = read(&meter(tcp(serve(inverter).await), MeterMap::Sunspec), "power").await.unwrap_err();
        assert!(e.contains("no SunSpec meter model"), "{e}");
    }

    /// RTU framing over a real serial line: a pseudo-terminal pair, the meter on one end.
    #[tokio::test]
    async fn reads_a_meter_over_modbus_rtu_on_a_serial_line() {
        use tokio_serial::{SerialPort, SerialStream};
        let (device, mut ours) = SerialStream::pair().expect("a pseudo-terminal pair");
        let path = ours.name().expect("the pty has a path");
        // Keep the line up between the driver's opens with a plain, unlocked descriptor.
        ours.set_exclusive(false).unwrap();
        let _line = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
        drop(ours);
        tokio::spawn(tokio_modbus::server::rtu::Server::new(device).serve_forever(Registers::sdm630()));
        let link = Link { address: None, serial: Some(SerialLine { path: path.clone(), baud: 19_200, parity: Parity::Even, stop_bits: 1 }), rtu_over_tcp: None, unit: 7, timeout_ms: 2_000, unknown: BTreeMap::new() };
        let s = meter(link, MeterMap::Sdm630);
        assert_eq!(read(&s, "voltage-l1").await.unwrap(), (230.5, "V"));
        let e = read(&s, "energy-import").await.map(|(wh, _)| wh.round());
        assert_eq!(e, Ok(12_345.0));
        let missing = Link { serial: Some(SerialLine { path: "/dev/no-such-port".into(), baud: 9600, parity: Parity::None, stop_bits: 1 }), ..s.link.clone() };
        let e = read(&meter(missing, MeterMap::Sdm630), "power").await.unwrap_err();
        assert!(e.contains("meter on /dev/no-such-port unit 7: cannot open the serial port"), "{e}");
    }

    /// RTU frames through a serial-to-Ethernet gateway's TCP port.
    #[tokio::test]
    async fn reads_a_meter_behind_an_rtu_over_tcp_gateway() {
        let gateway = crate::fake::serve_rtu_over_tcp(Registers::sdm630()).await;
        let link = Link { address: None, rtu_over_tcp: Some(gateway.to_string()), unit: 4, ..tcp(gateway) };
        link.check().unwrap();
        let s = meter(link, MeterMap::Sdm630);
        assert_eq!(read(&s, "voltage-l1").await.unwrap(), (230.5, "V"));
        // The same device spoken to in Modbus TCP framing does not understand it.
        let wrong = meter(Link { timeout_ms: 300, ..tcp(gateway) }, MeterMap::Sdm630);
        assert!(read(&wrong, "voltage-l1").await.is_err());
        let both = Link { address: Some("x:502".into()), rtu_over_tcp: Some(gateway.to_string()), ..tcp(gateway) };
        assert!(both.check().unwrap_err().contains("exactly one of"));
    }

    #[tokio::test]
    async fn broken_meters_fail_clearly() {
        let broken = Registers { broken: true, ..Registers::sdm630() };
        let e = read(&meter(tcp(serve(broken).await), MeterMap::Sdm630), "power").await.unwrap_err();
        assert!(e.contains("exception") && e.contains("0x0034"), "{e}");
        // Accepts the connection, never answers.
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        tokio::spawn(async move {
            let mut keep = vec![];
            while let Ok((s, _)) = silent.accept().await {
                keep.push(s);
            }
        });
        let e = read(&meter(Link { timeout_ms: 300, ..tcp(addr) }, MeterMap::Sdm630), "power").await.unwrap_err();
        assert!(e.contains("no answer within 300 ms"), "{e}");
        // Nobody listening.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        assert!(read(&meter(tcp(closed), MeterMap::Sdm630), "power").await.unwrap_err().contains("cannot connect"));
    }
}

/// A generic Modbus relay board: named relays on coils, named digital inputs on discrete
/// inputs. Unknown keys are refused by the flattened `Link`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RelayBoardSpec {
    #[serde(flatten)]
    pub link: Link,
    /// Relay name -> coil address.
    #[serde(default)]
    pub relays: std::collections::BTreeMap<String, u16>,
    /// Input name -> discrete input address.
    #[serde(default)]
    pub inputs: std::collections::BTreeMap<String, u16>,
}

/// What to do on a relay board.
pub enum BoardOp<'a> {
    SetRelay(&'a str, bool),
    GetRelay(&'a str),
    ReadInput(&'a str),
}

/// Carry out `op`; the bool is the state read (or set).
pub async fn board(spec: &RelayBoardSpec, op: BoardOp<'_>) -> Result<bool, String> {
    let device = spec.link.device("relay board");
    let relay = |name: &str| spec.relays.get(name).copied().ok_or_else(|| format!("{device} has no relay {name:?} (known: {})", spec.relays.keys().cloned().collect::<Vec<_>>().join(", ")));
    let input = |name: &str| spec.inputs.get(name).copied().ok_or_else(|| format!("{device} has no input {name:?} (known: {})", spec.inputs.keys().cloned().collect::<Vec<_>>().join(", ")));
    let io = async {
        let mut ctx = spec.link.connect(&device).await?;
        let err = |what: String, e: String| format!("{device}: {what}: {e}");
        let state = match op {
            BoardOp::SetRelay(name, on) => {
                let coil = relay(name)?;
                let what = format!("switching coil {coil}");
                ctx.write_single_coil(coil, on).await.map_err(|e| err(what.clone(), e.to_string()))?.map_err(|c| err(what.clone(), format!("exception {c:?}")))?;
                on
            }
            BoardOp::GetRelay(name) => {
                let coil = relay(name)?;
                let what = format!("reading coil {coil}");
                let v = ctx.read_coils(coil, 1).await.map_err(|e| err(what.clone(), e.to_string()))?.map_err(|c| err(what.clone(), format!("exception {c:?}")))?;
                v.first().copied().unwrap_or(false)
            }
            BoardOp::ReadInput(name) => {
                let di = input(name)?;
                let what = format!("reading input {di}");
                let v = ctx.read_discrete_inputs(di, 1).await.map_err(|e| err(what.clone(), e.to_string()))?.map_err(|c| err(what.clone(), format!("exception {c:?}")))?;
                v.first().copied().unwrap_or(false)
            }
        };
        let _ = ctx.disconnect().await;
        Ok(state)
    };
    within(spec.link.timeout_ms, &device, io).await
}

#[cfg(test)]
mod board_tests {
    use std::{
        collections::BTreeMap,
        future,
        sync::{Arc, Mutex},
    };

    use super::*;

    /// Four coils, one discrete input (on), and an exception for anything else.
    #[derive(Clone)]
    struct Board(Arc<Mutex<[bool; 4]>>);

    impl tokio_modbus::server::Service for Board {
        type Request = Request<'static>;
        type Response = Response;
        type Exception = ExceptionCode;
        type Future = future::Ready<Result<Response, ExceptionCode>>;

        fn call(&self, req: Self::Request) -> Self::Future {
            let mut coils = self.0.lock().unwrap();
            future::ready(match req {
                Request::WriteSingleCoil(a, v) if a < 4 => {
                    coils[a as usize] = v;
                    Ok(Response::WriteSingleCoil(a, v))
                }
                Request::ReadCoils(a, 1) if a < 4 => Ok(Response::ReadCoils(vec![coils[a as usize]])),
                Request::ReadDiscreteInputs(0, 1) => Ok(Response::ReadDiscreteInputs(vec![true])),
                _ => Err(ExceptionCode::IllegalDataAddress),
            })
        }
    }

    #[tokio::test]
    async fn relays_switch_and_read_back_and_bad_addresses_fail_clearly() {
        let state = Board(Arc::default());
        let addr = super::tests::serve(state.clone()).await;
        let spec = RelayBoardSpec {
            link: super::tests::tcp(addr),
            relays: BTreeMap::from([("contactor".to_string(), 2), ("ghost".to_string(), 9)]),
            inputs: BTreeMap::from([("door".to_string(), 0)]),
        };
        assert!(board(&spec, BoardOp::SetRelay("contactor", true)).await.unwrap());
        assert!(state.0.lock().unwrap()[2]);
        assert!(board(&spec, BoardOp::GetRelay("contactor")).await.unwrap());
        assert!(board(&spec, BoardOp::ReadInput("door")).await.unwrap());
        // The safe state after a case releases every relay the description names.
        let config = crate::config::BenchConfig {
            capabilities: BTreeMap::from([("relay".to_string(), crate::config::DriverConfig::ModbusRelays(RelayBoardSpec { relays: BTreeMap::from([("contactor".to_string(), 2)]), ..spec.clone() }))]),
            safe_state: None,
            safe_state_http: None,
        };
        let trace = ocpp_core::trace::Trace::new();
        crate::Bench::none().with_config(&config).safe_state(&trace).await;
        assert!(!state.0.lock().unwrap()[2], "the contactor is still on after the safe state");
        assert!(trace.snapshot().log.iter().any(|l| l.message == "safe state: relay contactor off"));
        let e = board(&spec, BoardOp::SetRelay("ghost", true)).await.unwrap_err();
        assert!(e.contains("exception") && e.contains("coil 9"), "{e}");
        assert!(board(&spec, BoardOp::SetRelay("fan", true)).await.unwrap_err().contains("no relay \"fan\""));
    }
}
