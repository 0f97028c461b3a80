//! The `modbus-tcp` driver: reads a bench energy meter over Modbus TCP (tokio-modbus), through
//! a register map for the meter model. Device faults (no answer, exception responses, a
//! connection refused) come back as clear failures naming the device and register.
use std::time::Duration;

use serde::Deserialize;
use tokio_modbus::prelude::*;

/// Meter models with a built-in register map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MeterMap {
    /// Eastron SDM630: input registers, IEEE 754 float32, high word first.
    Sdm630,
}

/// Where a quantity lives: first input register, and the factor to the reported unit.
struct Register {
    address: u16,
    factor: f64,
    unit: &'static str,
}

impl MeterMap {
    /// Quantities a case can ask for: `energy-import` (Wh), `power` (W), `voltage-l1` (V),
    /// `current-l1` (A).
    fn register(self, quantity: &str) -> Option<Register> {
        let (address, factor, unit) = match (self, quantity) {
            (MeterMap::Sdm630, "voltage-l1") => (0x0000, 1.0, "V"),
            (MeterMap::Sdm630, "current-l1") => (0x0006, 1.0, "A"),
            (MeterMap::Sdm630, "power") => (0x0034, 1.0, "W"),
            // The meter counts kWh; cases compare Wh.
            (MeterMap::Sdm630, "energy-import") => (0x0048, 1000.0, "Wh"),
            _ => return None,
        };
        Some(Register { address, factor, unit })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ModbusTcpSpec {
    /// host:port of the meter (or its gateway).
    pub address: String,
    /// Modbus unit (slave) id.
    #[serde(default = "default_unit")]
    pub unit: u8,
    pub map: MeterMap,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_unit() -> u8 {
    1
}

fn default_timeout() -> u64 {
    2_000
}

/// Connect to a Modbus TCP device (`device` names it in errors).
async fn connect(address: &str, unit: u8, device: &str) -> Result<client::Context, String> {
    let addr = tokio::net::lookup_host(address).await.ok().and_then(|mut a| a.next()).ok_or_else(|| format!("{device}: cannot resolve {address:?}"))?;
    tcp::connect_slave(addr, Slave(unit)).await.map_err(|e| format!("{device}: cannot connect: {e}"))
}

/// Bound a whole exchange with a device, so a silent one cannot stall a case.
async fn within<T>(timeout_ms: u64, device: &str, io: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(Duration::from_millis(timeout_ms), io).await.map_err(|_| format!("{device}: no answer within {timeout_ms} ms"))?
}

/// Read one quantity: (value, unit).
pub async fn read(spec: &ModbusTcpSpec, quantity: &str) -> Result<(f64, &'static str), String> {
    let reg = spec.map.register(quantity).ok_or_else(|| format!("the {:?} map has no quantity {quantity:?} (energy-import, power, voltage-l1, current-l1)", spec.map))?;
    let device = format!("meter at {} unit {}", spec.address, spec.unit);
    let io = async {
        let mut ctx = connect(&spec.address, spec.unit, &device).await?;
        let words = ctx
            .read_input_registers(reg.address, 2)
            .await
            .map_err(|e| format!("{device}: reading input register {:#06x}: {e}", reg.address))?
            .map_err(|code| format!("{device}: exception {code:?} for input register {:#06x}", reg.address))?;
        let _ = ctx.disconnect().await;
        let [hi, lo] = words[..] else { return Err(format!("{device}: {} registers instead of 2", words.len())) };
        let value = f32::from_bits((u32::from(hi) << 16) | u32::from(lo));
        Ok((f64::from(value) * reg.factor, reg.unit))
    };
    within(spec.timeout_ms, &device, io).await
}

#[cfg(test)]
mod tests {
    use std::{future, net::SocketAddr};

    use tokio::net::TcpListener;
    use tokio_modbus::server::tcp::{Server, accept_tcp_connection};

    use super::*;

    /// An SDM630 model: fixed readings; `broken` answers every read with an exception.
    #[derive(Clone)]
    struct Sdm630 {
        broken: bool,
    }

    impl tokio_modbus::server::Service for Sdm630 {
        type Request = Request<'static>;
        type Response = Response;
        type Exception = ExceptionCode;
        type Future = future::Ready<Result<Response, ExceptionCode>>;

        fn call(&self, req: Self::Request) -> Self::Future {
            let value = |a: u16| -> Option<f32> {
                match a {
                    0x0000 => Some(230.5),
                    0x0006 => Some(16.0),
                    0x0034 => Some(11_040.0),
                    0x0048 => Some(12.345),
                    _ => None,
                }
            };
            future::ready(match req {
                Request::ReadInputRegisters(a, 2) if !self.broken => match value(a) {
                    Some(v) => Ok(Response::ReadInputRegisters(vec![(v.to_bits() >> 16) as u16, v.to_bits() as u16])),
                    None => Err(ExceptionCode::IllegalDataAddress),
                },
                _ => Err(ExceptionCode::ServerDeviceFailure),
            })
        }
    }

    /// Serve a device model over Modbus TCP on loopback; every connection gets a clone.
    pub(super) async fn serve<S>(model: S) -> SocketAddr
    where
        S: tokio_modbus::server::Service<Request = Request<'static>> + Clone + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Server::new(listener);
        tokio::spawn(async move {
            let on_connected = |stream, socket_addr| {
                let m = model.clone();
                async move { accept_tcp_connection(stream, socket_addr, move |_| Ok(Some(m.clone()))) }
            };
            let _ = server.serve(&on_connected, |_| {}).await;
        });
        addr
    }

    async fn meter(broken: bool) -> SocketAddr {
        serve(Sdm630 { broken }).await
    }

    fn spec(addr: SocketAddr) -> ModbusTcpSpec {
        ModbusTcpSpec { address: addr.to_string(), unit: 1, map: MeterMap::Sdm630, timeout_ms: 1_000 }
    }

    #[tokio::test]
    async fn reads_an_sdm630_through_its_map() {
        let s = spec(meter(false).await);
        let (wh, unit) = read(&s, "energy-import").await.unwrap();
        assert_eq!(unit, "Wh");
        assert!((wh - 12_345.0).abs() < 0.1, "{wh}");
        assert_eq!(read(&s, "voltage-l1").await.unwrap(), (230.5, "V"));
        assert!(read(&s, "frequency").await.unwrap_err().contains("no quantity"));
    }

    #[tokio::test]
    async fn broken_meters_fail_clearly() {
        let e = read(&spec(meter(true).await), "power").await.unwrap_err();
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
        let e = read(&ModbusTcpSpec { timeout_ms: 300, ..spec(addr) }, "power").await.unwrap_err();
        assert!(e.contains("no answer within 300 ms"), "{e}");
        // Nobody listening.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        assert!(read(&spec(closed), "power").await.unwrap_err().contains("cannot connect"));
    }
}

/// A generic Modbus relay board: named relays on coils, named digital inputs on discrete
/// inputs, over Modbus TCP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RelayBoardSpec {
    /// host:port of the board.
    pub address: String,
    #[serde(default = "default_unit")]
    pub unit: u8,
    /// Relay name -> coil address.
    #[serde(default)]
    pub relays: std::collections::BTreeMap<String, u16>,
    /// Input name -> discrete input address.
    #[serde(default)]
    pub inputs: std::collections::BTreeMap<String, u16>,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

/// What to do on a relay board.
pub enum BoardOp<'a> {
    SetRelay(&'a str, bool),
    GetRelay(&'a str),
    ReadInput(&'a str),
}

/// Carry out `op`; the bool is the state read (or set).
pub async fn board(spec: &RelayBoardSpec, op: BoardOp<'_>) -> Result<bool, String> {
    let device = format!("relay board at {} unit {}", spec.address, spec.unit);
    let relay = |name: &str| spec.relays.get(name).copied().ok_or_else(|| format!("{device} has no relay {name:?} (known: {})", spec.relays.keys().cloned().collect::<Vec<_>>().join(", ")));
    let input = |name: &str| spec.inputs.get(name).copied().ok_or_else(|| format!("{device} has no input {name:?} (known: {})", spec.inputs.keys().cloned().collect::<Vec<_>>().join(", ")));
    let io = async {
        let mut ctx = connect(&spec.address, spec.unit, &device).await?;
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
    within(spec.timeout_ms, &device, io).await
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
            address: addr.to_string(),
            unit: 1,
            relays: BTreeMap::from([("contactor".to_string(), 2), ("ghost".to_string(), 9)]),
            inputs: BTreeMap::from([("door".to_string(), 0)]),
            timeout_ms: 1_000,
        };
        assert!(board(&spec, BoardOp::SetRelay("contactor", true)).await.unwrap());
        assert!(state.0.lock().unwrap()[2]);
        assert!(board(&spec, BoardOp::GetRelay("contactor")).await.unwrap());
        assert!(board(&spec, BoardOp::ReadInput("door")).await.unwrap());
        // The safe state after a case releases every relay the description names.
        let config = crate::bench::config::BenchConfig {
            capabilities: BTreeMap::from([("relay".to_string(), crate::bench::config::DriverConfig::ModbusRelays(RelayBoardSpec { relays: BTreeMap::from([("contactor".to_string(), 2)]), ..spec.clone() }))]),
            safe_state: None,
        };
        let trace = crate::trace::Trace::new();
        crate::bench::Bench::none().with_config(&config).safe_state(&trace).await;
        assert!(!state.0.lock().unwrap()[2], "the contactor is still on after the safe state");
        assert!(trace.snapshot().log.iter().any(|l| l.message == "safe state: relay contactor off"));
        let e = board(&spec, BoardOp::SetRelay("ghost", true)).await.unwrap_err();
        assert!(e.contains("exception") && e.contains("coil 9"), "{e}");
        assert!(board(&spec, BoardOp::SetRelay("fan", true)).await.unwrap_err().contains("no relay \"fan\""));
    }
}
