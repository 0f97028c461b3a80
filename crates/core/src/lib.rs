//! The OCPP-J core every other part builds on: versions, frames, the JSON schemas, one
//! connection's session (framing rules, message ids, time-outs, default answers), the
//! WebSocket transport with security profiles 1-3, the trace a case's evidence is written to,
//! and the vocabulary of cases and verdicts. It knows nothing of WASM, simulators or benches.
pub mod case;
pub mod defaults;
pub mod frame;
pub mod model;
pub mod redact;
pub mod schema;
pub mod security;
pub mod session;
pub mod trace;
pub mod transport;
pub mod version;
