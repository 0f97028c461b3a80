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

/// Read one quantity: (value, unit).
pub async fn read(spec: &ModbusTcpSpec, quantity: &str) -> Result<(f64, &'static str), String> {
    let reg = spec.map.register(quantity).ok_or_else(|| format!("the {:?} map has no quantity {quantity:?} (energy-import, power, voltage-l1, current-l1)", spec.map))?;
    let addr = tokio::net::lookup_host(&spec.address).await.ok().and_then(|mut a| a.next()).ok_or_else(|| format!("cannot resolve the meter address {:?}", spec.address))?;
    let device = format!("meter at {} unit {}", spec.address, spec.unit);
    let io = async {
        let mut ctx = tcp::connect_slave(addr, Slave(spec.unit)).await.map_err(|e| format!("{device}: cannot connect: {e}"))?;
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
    tokio::time::timeout(Duration::from_millis(spec.timeout_ms), io).await.map_err(|_| format!("{device}: no answer within {} ms", spec.timeout_ms))?
}

#[cfg(test)]
mod tests {
    use std::{future, net::SocketAddr, sync::Arc};

    use tokio::net::TcpListener;
    use tokio_modbus::server::tcp::{Server, accept_tcp_connection};

    use super::*;

    /// An SDM630 model: fixed readings; `broken` answers every read with an exception.
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

    async fn meter(broken: bool) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Arc::new(Server::new(listener));
        tokio::spawn(async move {
            let on_connected = |stream, socket_addr| async move { accept_tcp_connection(stream, socket_addr, |_| Ok(Some(Sdm630 { broken }))) };
            let _ = server.serve(&on_connected, |_| {}).await;
        });
        addr
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
