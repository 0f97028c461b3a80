//! Fake bench devices on loopback, for tests (feature `fakes`): an SCPI instrument whose
//! answers a closure decides — including silence, refusals and garbage — and a Modbus SDM630
//! meter whose energy register a closure feeds. They misbehave on purpose so that the drivers'
//! error paths are exercised, and they drive a simulated DUT so that a whole case can run
//! against them.
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

/// How the fake instrument treats one line it received.
pub enum Reply {
    /// A query's answer (sent with a newline).
    Answer(String),
    /// A command it took: no answer, nothing queued.
    Done,
    /// A command it refused: this entry ("-113,\"Undefined header\"") joins its error queue.
    Refuse(String),
    /// Nothing, ever: the line is swallowed.
    Silence,
    /// These bytes as they are.
    Raw(Vec<u8>),
}

/// A fake SCPI instrument on a loopback port; it answers `SYST:ERR?` from its error queue
/// itself and hands every other line to the closure.
pub struct Instrument {
    address: SocketAddr,
    received: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Instrument {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Instrument {
    pub async fn start(answer: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Instrument {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let address = listener.local_addr().expect("bound");
        let received = Arc::new(Mutex::new(Vec::new()));
        let (answer, log) = (Arc::new(answer), received.clone());
        let task = tokio::spawn(async move {
            let errors = Arc::new(Mutex::new(std::collections::VecDeque::<String>::new()));
            while let Ok((stream, _)) = listener.accept().await {
                let (answer, log, errors) = (answer.clone(), log.clone(), errors.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let line = line.trim().to_string();
                        let reply = if line == "SYST:ERR?" {
                            Reply::Answer(errors.lock().unwrap().pop_front().unwrap_or_else(|| "+0,\"No error\"".into()))
                        } else {
                            log.lock().unwrap().push(line.clone());
                            answer(&line)
                        };
                        let bytes = match reply {
                            Reply::Answer(a) => format!("{a}\n").into_bytes(),
                            Reply::Refuse(e) => {
                                errors.lock().unwrap().push_back(e);
                                continue;
                            }
                            Reply::Done | Reply::Silence => continue,
                            Reply::Raw(b) => b,
                        };
                        if write.write_all(&bytes).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Instrument { address, received, task }
    }

    /// host:port, as a bench description names it.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Every line received but the error-queue reads, in order.
    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

/// A fake Eastron SDM630 on Modbus TCP: energy-import (kWh, float32 at 0x0048) from `energy_wh`,
/// fixed voltage and current, and IllegalDataAddress for anything else.
#[derive(Clone)]
pub struct Sdm630 {
    energy_wh: Arc<dyn Fn() -> f64 + Send + Sync>,
}

impl Sdm630 {
    pub fn new(energy_wh: impl Fn() -> f64 + Send + Sync + 'static) -> Sdm630 {
        Sdm630 { energy_wh: Arc::new(energy_wh) }
    }

    fn register(&self, address: u16) -> Option<u16> {
        let float = |v: f32, hi: bool| if hi { (v.to_bits() >> 16) as u16 } else { v.to_bits() as u16 };
        let (value, base) = match address {
            0x0000..=0x0001 => (230.0, 0x0000),
            0x0006..=0x0007 => (16.0, 0x0006),
            0x0048..=0x0049 => (((self.energy_wh)() / 1000.0) as f32, 0x0048),
            _ => return None,
        };
        Some(float(value, address == base))
    }
}

impl tokio_modbus::server::Service for Sdm630 {
    type Request = tokio_modbus::Request<'static>;
    type Response = tokio_modbus::Response;
    type Exception = tokio_modbus::ExceptionCode;
    type Future = std::future::Ready<Result<Self::Response, Self::Exception>>;

    fn call(&self, req: Self::Request) -> Self::Future {
        use tokio_modbus::{ExceptionCode, Request, Response};
        std::future::ready(match req {
            Request::ReadInputRegisters(a, n) => {
                (a..a.saturating_add(n)).map(|a| self.register(a).ok_or(ExceptionCode::IllegalDataAddress)).collect::<Result<Vec<_>, _>>().map(Response::ReadInputRegisters)
            }
            _ => Err(ExceptionCode::IllegalFunction),
        })
    }
}

/// Serve a Modbus device model on a loopback port in one framing (`tcp`, `rtu_over_tcp`:
/// tokio-modbus's server modules of the same shape); every connection gets a clone.
macro_rules! serve_framed {
    ($framing:ident, $model:expr) => {{
        use tokio_modbus::server::$framing::{Server, accept_tcp_connection};
        let model = $model;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("bound");
        let server = Server::new(listener);
        tokio::spawn(async move {
            let on_connected = |stream, socket_addr| {
                let m = model.clone();
                async move { accept_tcp_connection(stream, socket_addr, move |_| Ok(Some(m.clone()))) }
            };
            let _ = server.serve(&on_connected, |_| {}).await;
        });
        addr
    }};
}

/// Serve a Modbus device model over Modbus TCP.
pub async fn serve_modbus_tcp<S>(model: S) -> SocketAddr
where
    S: tokio_modbus::server::Service<Request = tokio_modbus::Request<'static>> + Clone + Send + Sync + 'static,
{
    serve_framed!(tcp, model)
}

/// Serve a Modbus device model with RTU framing over TCP, as a serial-to-Ethernet gateway
/// passes an RS-485 line through.
pub async fn serve_rtu_over_tcp<S>(model: S) -> SocketAddr
where
    S: tokio_modbus::server::Service<Request = tokio_modbus::Request<'static>> + Clone + Send + Sync + 'static,
{
    serve_framed!(rtu_over_tcp, model)
}
