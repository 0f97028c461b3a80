//! OCPP versions and their WebSocket subprotocol names.
use std::{fmt, str::FromStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum OcppVersion {
    #[serde(rename = "1.6")]
    V16,
    #[serde(rename = "2.0.1")]
    V201,
    #[serde(rename = "2.1")]
    V21,
}

impl OcppVersion {
    pub const ALL: [OcppVersion; 3] = [OcppVersion::V16, OcppVersion::V201, OcppVersion::V21];

    /// The `Sec-WebSocket-Protocol` token of the version.
    pub fn subprotocol(self) -> &'static str {
        match self {
            OcppVersion::V16 => "ocpp1.6",
            OcppVersion::V201 => "ocpp2.0.1",
            OcppVersion::V21 => "ocpp2.1",
        }
    }

    pub fn from_subprotocol(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.subprotocol() == s)
    }

    /// Directory of the version's schemas in `crates/core/schemas`.
    pub fn schema_dir(self) -> &'static str {
        match self {
            OcppVersion::V16 => "v16",
            OcppVersion::V201 => "v201",
            OcppVersion::V21 => "v21",
        }
    }

    /// 2.1 adds CALLRESULTERROR (5) and SEND (6) to the RPC framework.
    pub fn has_rpc_extensions(self) -> bool {
        self == OcppVersion::V21
    }
}

impl fmt::Display for OcppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OcppVersion::V16 => "1.6",
            OcppVersion::V201 => "2.0.1",
            OcppVersion::V21 => "2.1",
        })
    }
}

impl FromStr for OcppVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim_start_matches("ocpp") {
            "1.6" | "16" => Ok(OcppVersion::V16),
            "2.0.1" | "201" => Ok(OcppVersion::V201),
            "2.1" | "21" => Ok(OcppVersion::V21),
            _ => Err(format!("unknown OCPP version {s:?} (expected 1.6, 2.0.1 or 2.1)")),
        }
    }
}
