//! What a hostile DUT sends to break the other side's OCPP-J stack: garbage, wrong shapes,
//! binary and oversized frames, floods, half messages. The harness must turn each into a
//! failing verdict with a reason, and carry on.
use tokio::sync::mpsc::UnboundedSender;
use tokio_tungstenite::tungstenite::{
    Message,
    protocol::frame::{Frame, coding::{Data, OpCode}},
};

use super::Hostile;
use ocpp_core::transport::max_message;

/// What the DUT does after its attack.
pub enum After {
    /// Carries on as usual.
    Go,
    /// Stops reading its socket (but keeps it open).
    StopReading,
    /// Drops the TCP connection.
    Drop,
}

/// Messages in a flood.
pub const FLOOD: usize = 2_000;

pub fn act(h: Hostile, tx: &UnboundedSender<Message>) -> After {
    let text = |t: String| {
        let _ = tx.send(Message::text(t));
    };
    match h {
        Hostile::NonJsonFrame => text("this is not JSON {".into()),
        Hostile::BadFrameShape => text(r#"{"messageTypeId": 2, "action": "Heartbeat"}"#.into()),
        Hostile::UnknownMessageType => text(r#"[7,"hostile-1",{}]"#.into()),
        Hostile::BinaryFrame => {
            let _ = tx.send(Message::binary(vec![0x02, 0x00, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50]));
        }
        Hostile::HugeFrame => text(format!(r#"[2,"hostile-huge","Heartbeat",{{"pad":"{}"}}]"#, "x".repeat(max_message() + 1024))),
        Hostile::Flood => {
            for i in 0..FLOOD {
                text(format!(r#"[2,"flood-{i}","Heartbeat",{{}}]"#));
            }
        }
        Hostile::CloseMidMessage => {
            let first = Frame::message(r#"[2,"hostile-half","Heartbeat",{"#.as_bytes().to_vec(), OpCode::Data(Data::Text), false);
            let _ = tx.send(Message::Frame(first));
            return After::Drop;
        }
        Hostile::SlowReader => return After::StopReading,
        // Acted elsewhere: at every answer, or at the handshake.
        Hostile::AnswerTwice | Hostile::RefuseHandshake => {}
    }
    After::Go
}
