//! OCPP-J RPC frames: `[2, id, action, payload]` CALL, `[3, id, payload]` CALLRESULT,
//! `[4, id, code, description, details]` CALLERROR and, from 2.1 on, `[5, ...]`
//! CALLRESULTERROR and `[6, id, action, payload]` SEND.
use serde_json::{Value, json};

use crate::version::OcppVersion;

#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Call { id: String, action: String, payload: Value },
    CallResult { id: String, payload: Value },
    CallError { id: String, code: String, description: String, details: Value },
    /// 2.1: an error about a CALLRESULT the peer received.
    CallResultError { id: String, code: String, description: String, details: Value },
    /// 2.1: a one-way message that gets no answer.
    Send { id: String, action: String, payload: Value },
}

/// Why a text is not a valid frame, with the message id when one could be read (the peer
/// must then answer with a CALLERROR carrying it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct FrameError {
    pub id: Option<String>,
    pub kind: FrameErrorKind,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameErrorKind {
    /// Not JSON, not an array, or a message id that cannot be read.
    Rpc,
    /// A message type id the version does not define.
    MessageType,
    /// Array of the wrong length or with fields of the wrong JSON type.
    Format,
}

impl FrameErrorKind {
    /// The CALLERROR code a conformant receiver answers with.
    pub fn error_code(self, version: OcppVersion) -> &'static str {
        match (self, version) {
            (FrameErrorKind::Rpc, OcppVersion::V16) => "GenericError",
            (FrameErrorKind::Rpc, _) => "RpcFrameworkError",
            (FrameErrorKind::MessageType, OcppVersion::V16) => "NotSupported",
            (FrameErrorKind::MessageType, _) => "MessageTypeNotSupported",
            (FrameErrorKind::Format, OcppVersion::V16) => "FormationViolation",
            (FrameErrorKind::Format, _) => "FormatViolation",
        }
    }
}

impl Frame {
    pub fn id(&self) -> &str {
        match self {
            Frame::Call { id, .. }
            | Frame::CallResult { id, .. }
            | Frame::CallError { id, .. }
            | Frame::CallResultError { id, .. }
            | Frame::Send { id, .. } => id,
        }
    }

    pub fn type_id(&self) -> u8 {
        match self {
            Frame::Call { .. } => 2,
            Frame::CallResult { .. } => 3,
            Frame::CallError { .. } => 4,
            Frame::CallResultError { .. } => 5,
            Frame::Send { .. } => 6,
        }
    }

    pub fn to_text(&self) -> String {
        let v = match self {
            Frame::Call { id, action, payload } => json!([2, id, action, payload]),
            Frame::CallResult { id, payload } => json!([3, id, payload]),
            Frame::CallError { id, code, description, details } => json!([4, id, code, description, details]),
            Frame::CallResultError { id, code, description, details } => json!([5, id, code, description, details]),
            Frame::Send { id, action, payload } => json!([6, id, action, payload]),
        };
        v.to_string()
    }

    /// Parse one WebSocket text message for the negotiated version.
    pub fn parse(text: &str, version: OcppVersion) -> Result<Frame, FrameError> {
        let err = |id: Option<String>, kind, reason: String| FrameError { id, kind, reason };
        let value: Value =
            serde_json::from_str(text).map_err(|e| err(None, FrameErrorKind::Rpc, format!("not JSON: {e}")))?;
        let Value::Array(items) = value else {
            return Err(err(None, FrameErrorKind::Rpc, "not a JSON array".into()));
        };
        let id = match items.get(1) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(err(None, FrameErrorKind::Rpc, format!("message id is not a string: {other}"))),
            None => return Err(err(None, FrameErrorKind::Rpc, "no message id".into())),
        };
        if id.len() > 36 {
            return Err(err(Some(id), FrameErrorKind::Format, "message id longer than 36 characters".into()));
        }
        let some_id = Some(id.clone());
        let type_id = match items.first().and_then(Value::as_u64) {
            Some(t) => t,
            None => return Err(err(some_id, FrameErrorKind::Rpc, "message type id is not an integer".into())),
        };
        let expect_len = |n: usize| {
            if items.len() == n {
                Ok(())
            } else {
                Err(err(
                    Some(id.clone()),
                    FrameErrorKind::Format,
                    format!("message type {type_id} needs {n} elements, got {}", items.len()),
                ))
            }
        };
        let string_at = |i: usize, what: &str| match &items[i] {
            Value::String(s) => Ok(s.clone()),
            other => Err(err(Some(id.clone()), FrameErrorKind::Format, format!("{what} is not a string: {other}"))),
        };
        let object_at = |i: usize, what: &str| match &items[i] {
            v @ Value::Object(_) => Ok(v.clone()),
            other => Err(err(Some(id.clone()), FrameErrorKind::Format, format!("{what} is not an object: {other}"))),
        };
        match type_id {
            2 | 6 if type_id == 2 || version.has_rpc_extensions() => {
                expect_len(4)?;
                let action = string_at(2, "action")?;
                let payload = object_at(3, "payload")?;
                Ok(if type_id == 2 { Frame::Call { id, action, payload } } else { Frame::Send { id, action, payload } })
            }
            3 => {
                expect_len(3)?;
                Ok(Frame::CallResult { payload: object_at(2, "payload")?, id })
            }
            4 | 5 if type_id == 4 || version.has_rpc_extensions() => {
                expect_len(5)?;
                let code = string_at(2, "error code")?;
                let description = string_at(3, "error description")?;
                let details = object_at(4, "error details")?;
                Ok(if type_id == 4 {
                    Frame::CallError { id, code, description, details }
                } else {
                    Frame::CallResultError { id, code, description, details }
                })
            }
            other => Err(err(some_id, FrameErrorKind::MessageType, format!("message type {other} is not defined in OCPP {version}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OcppVersion::*;

    #[test]
    fn round_trips_every_type() {
        let frames = [
            Frame::Call { id: "1".into(), action: "Heartbeat".into(), payload: json!({}) },
            Frame::CallResult { id: "1".into(), payload: json!({"currentTime": "2024-01-01T00:00:00Z"}) },
            Frame::CallError { id: "1".into(), code: "NotImplemented".into(), description: "".into(), details: json!({}) },
            Frame::CallResultError { id: "1".into(), code: "GenericError".into(), description: "x".into(), details: json!({}) },
            Frame::Send { id: "1".into(), action: "NotifyPeriodicEventStream".into(), payload: json!({}) },
        ];
        for f in frames {
            assert_eq!(Frame::parse(&f.to_text(), V21).unwrap(), f);
        }
    }

    #[test]
    fn rejects_malformed_frames_with_the_right_code() {
        let cases = [
            ("not json", None, FrameErrorKind::Rpc),
            ("{}", None, FrameErrorKind::Rpc),
            ("[2, 5, \"Heartbeat\", {}]", None, FrameErrorKind::Rpc),
            ("[2, \"a\", \"Heartbeat\"]", Some("a"), FrameErrorKind::Format),
            ("[2, \"a\", \"Heartbeat\", []]", Some("a"), FrameErrorKind::Format),
            ("[3, \"a\", {}, 1]", Some("a"), FrameErrorKind::Format),
            ("[7, \"a\", {}]", Some("a"), FrameErrorKind::MessageType),
            ("[\"2\", \"a\", \"Heartbeat\", {}]", Some("a"), FrameErrorKind::Rpc),
        ];
        for (text, id, kind) in cases {
            let e = Frame::parse(text, V201).unwrap_err();
            assert_eq!((e.id.as_deref(), e.kind), (id, kind), "{text}");
        }
    }

    #[test]
    fn rpc_extensions_only_exist_in_2_1() {
        let send = "[6, \"a\", \"NotifyPeriodicEventStream\", {}]";
        assert!(Frame::parse(send, V21).is_ok());
        assert_eq!(Frame::parse(send, V201).unwrap_err().kind, FrameErrorKind::MessageType);
        assert_eq!(FrameErrorKind::MessageType.error_code(V201), "MessageTypeNotSupported");
        assert_eq!(FrameErrorKind::Format.error_code(V16), "FormationViolation");
    }
}
