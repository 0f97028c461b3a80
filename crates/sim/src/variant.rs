//! Legal variants of the reference DUTs: behaviours OCPP allows but that are unusual, or that
//! a strict implementation has, the mirror of the fault switches. A case that fails against one
//! gives a false verdict — the harness's bug, not the DUT's — so the tests run every case
//! against each variant of its DUT.
use std::{fmt, str::FromStr, time::Duration};

/// One legal but unusual way of behaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Sends the CALL a CSMS request causes (Authorize, StatusNotification...) before it
    /// answers that request, and answers only once its own CALL is answered (OCPP-J lets
    /// CALLs cross).
    OwnCallFirst,
    /// Answers every request of the other side after `SLOW_ANSWER`, well inside the response
    /// time-out (station and CSMS).
    SlowAnswers,
    /// Takes `SLOW_RECONNECT` to come back after a reboot or a lost connection (a long
    /// back-off; after a lost connection it does not boot again, as B04 allows).
    SlowReconnect,
    /// 1.6: never reports connector 0 (the charge point as a whole), which 1.6 leaves optional.
    NoConnectorZero,
    /// 2.x: adds the optional `customData` object to every message it sends.
    CustomData,
    /// CSMS: an ISO14443 token (any 1.6 idTag) that is not a 4- or 7-byte UID in hex (8 or 14
    /// hex digits) is Invalid.
    StrictTokens,
    /// CSMS: a token already in an ongoing transaction gets ConcurrentTx when a second one
    /// starts with it.
    OneTransactionPerToken,
    /// CSMS, 1.6: a StartTransaction on a connector that has not reported Preparing since its
    /// last transaction is Invalid.
    RequirePreparing,
    /// CSMS: right after it accepts a BootNotification it asks for the station's settings
    /// (1.6 GetConfiguration, 2.x GetBaseReport), as many CSMSs do.
    OwnCallsAfterBoot,
    /// CSMS: offered no subprotocol it supports, it completes the upgrade without one and
    /// closes at once (what OCPP-J §3.2 prescribes) instead of refusing with an HTTP error.
    UpgradeThenClose,
    /// CSMS: a station that connects again within `QUICK_RECONNECT` of its last close is
    /// turned away (upgrade, then Close 1011): its per-station queue is still being torn down,
    /// as in a real CSMS that crashed on a 13 ms reconnect.
    SlowSessionSetup,
    /// CSMS, 2.x: a NotifyEvent with an eventId the station already used since its last boot
    /// gets a CALLERROR (the id is meant to identify the event).
    UniqueEventIds,
    /// CSMS: a CALLRESULT followed within `LOSSY_WINDOW` by the station's Close is lost with
    /// the connection; the CALL it answered stays open and holds the station's next messages
    /// for `LOSSY_HOLD`, as a real CSMS's message queue did.
    LossyClose,
    /// Station, 2.x: `TxCtrlr.TxStartPoint` is PowerPathClosed — a transaction starts only
    /// once the EV is connected and authorized, not at the cable or the token alone.
    TxStartPowerPath,
    /// Station: its connectors have no lock (part 5 AQ-2): UnlockConnector is NotSupported
    /// at 1.6 (§7.46) and not implemented at 2.x (CALLERROR NotImplemented).
    NoConnectorLock,
    /// Station, 2.x: `TxCtrlr.TxStartPoint` is Authorized — the token alone starts a
    /// transaction, before any cable.
    TxStartAuthorized,
    /// Station, 2.x: `AuthCtrlr.AuthorizeRemoteStart` is true — a remote start's token is
    /// authorized with the CSMS first (F01.FR.01/02).
    AuthorizeRemoteStart,
    /// Station, 2.x: reports connector availability only by NotifyEvent of the connector's
    /// AvailabilityState (part 2 G01; part 6's Booted state accepts either), never a
    /// StatusNotification of its own (a TriggerMessage for one still gets one).
    NotifyEventOnly,
    /// Station, 2.x: two EVSEs, the second with two connectors; the lab's DUT description
    /// names EVSE 2 as the one under test (`lab_description`).
    TwoEvses,
    /// Station, 2.x: TriggerMessage of MeterValues, TransactionEvent and LogStatusNotification
    /// (part 5 C-29.1 to C-29.3, optional) answered NotImplemented.
    FewTriggers,
    /// Station: no authorization cache (optional: 2.x part 5 C-49, 1.6 §3.5.2) — no
    /// AuthCacheCtrlr component (1.6: no AuthorizationCacheEnabled key), ClearCache Rejected.
    NoAuthCache,
    /// Station, 2.x: `TxCtrlr.TxStopPoint` is EVConnected — the driver's token or a remote
    /// stop ends the authorization and the energy (an Updated event, F03.FR.02), the EV
    /// leaving ends the transaction (E06.FR.02).
    TxStopEvDisconnected,
    /// Station, 2.x: a device model with only the variables part 2's appendix requires of
    /// what it implements — no OCPPCommCtrlr.HeartbeatInterval (heartbeats follow the
    /// BootNotification's interval), no AuthCacheCtrlr variables (its cache cannot be seen,
    /// so part 6's cache cases, which need AuthCacheCtrlr.Available, do not apply), no
    /// RetryBackOff variables (the cases whose configuration state sets them skip).
    MinimalDeviceModel,
    /// Station, 2.x: charging profiles and composite schedules in W only
    /// (`SmartChargingCtrlr.RateUnit` W): one in A is Rejected (K01.FR.26, K08.FR.07).
    WattsOnly,
    /// Station, 2.x: reservations of a named EVSE only (`ReservationCtrlr.NonEvseSpecific`
    /// false): one without an evseId is Rejected (H01.FR.19).
    EvseSpecificReservations,
    /// Station, 2.x: a plain display — priorities InFront and NormalCycle, formats ASCII and
    /// UTF8 (`DisplayMessageCtrlr.SupportedPriorities` / `SupportedFormats`): an AlwaysFront or
    /// HTML message is refused (O01.FR.01, O01.FR.03).
    PlainDisplay,
    /// Station, 2.1: no local cost calculation (no TariffCostCtrlr): every tariff message is
    /// answered NotSupported (I07.FR.01, I11.FR.01).
    NoLocalCost,
    /// CSMS, 2.1: the running cost of a transaction goes by CostUpdated, not in the
    /// TransactionEvent answers (I02.FR.01 allows either).
    CostUpdated,
    /// Station, 2.1: no DER control (no ACDERCtrlr): SetDERControl and the rest answered
    /// NotSupported.
    NoDer,
    /// Station, 2.1: no bidirectional power transfer (no V2XChargingCtrlr): only ChargingOnly
    /// periods, AFRRSignal not implemented.
    NoV2x,
}

/// What the reference station lacks unless one of its variants gives it: words of the skip
/// reason of a conditional case whose part-6 prerequisite it does not meet, and the variant
/// that meets it (against which the case must run and pass).
pub const REFERENCE_LACKS: [(&str, Variant); 5] = [
    ("two or more EVSEs", Variant::TwoEvses),
    ("without A or without W", Variant::WattsOnly),
    ("reservations of a named EVSE only", Variant::EvseSpecificReservations),
    ("lists every display message", Variant::PlainDisplay),
    ("is for one that does not calculate costs", Variant::NoLocalCost),
];

/// The variant that meets the prerequisite a case skipped for (`REFERENCE_LACKS`), if that is
/// why it skipped.
pub fn meeting_prerequisite(verdict: &ocpp_core::case::Verdict) -> Option<Variant> {
    let ocpp_core::case::Verdict::Skip(why) = verdict else { return None };
    REFERENCE_LACKS.iter().find(|(w, _)| why.contains(w)).map(|(_, v)| *v)
}

/// The words of `REFERENCE_LACKS` a reference station with `variants` may skip for.
pub fn reference_lacks(variants: &[Variant]) -> Vec<&'static str> {
    REFERENCE_LACKS.iter().filter(|(_, v)| !variants.contains(v)).map(|(w, _)| *w).collect()
}

/// Which reference DUT a variant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Station,
    Csms,
    Both,
}

/// How late `slow-answers` answers.
pub const SLOW_ANSWER: Duration = Duration::from_millis(400);
/// How long after a boot `own-calls-after-boot` sends its CALL.
pub const OWN_CALL_DELAY: Duration = Duration::from_millis(100);
/// How long `slow-reconnect` stays away.
pub const SLOW_RECONNECT: Duration = Duration::from_secs(3);
/// How soon after its last close `slow-session-setup` refuses a station.
pub const QUICK_RECONNECT: Duration = Duration::from_secs(1);
/// How close before a Close `lossy-close` loses a CALLRESULT.
pub const LOSSY_WINDOW: Duration = Duration::from_millis(5);
/// How long a lost answer holds the station's next messages at `lossy-close`.
pub const LOSSY_HOLD: Duration = Duration::from_secs(15);

impl Variant {
    pub const ALL: [(Variant, &'static str); 30] = [
        (Variant::OwnCallFirst, "own-call-first"),
        (Variant::SlowAnswers, "slow-answers"),
        (Variant::SlowReconnect, "slow-reconnect"),
        (Variant::NoConnectorZero, "no-connector-zero"),
        (Variant::CustomData, "custom-data"),
        (Variant::StrictTokens, "strict-tokens"),
        (Variant::OneTransactionPerToken, "one-transaction-per-token"),
        (Variant::RequirePreparing, "require-preparing"),
        (Variant::OwnCallsAfterBoot, "own-calls-after-boot"),
        (Variant::UpgradeThenClose, "upgrade-then-close"),
        (Variant::SlowSessionSetup, "slow-session-setup"),
        (Variant::UniqueEventIds, "unique-event-ids"),
        (Variant::LossyClose, "lossy-close"),
        (Variant::TxStartPowerPath, "tx-start-power-path"),
        (Variant::NoConnectorLock, "no-connector-lock"),
        (Variant::TxStartAuthorized, "tx-start-authorized"),
        (Variant::AuthorizeRemoteStart, "authorize-remote-start"),
        (Variant::NotifyEventOnly, "notify-event-only"),
        (Variant::TwoEvses, "two-evses"),
        (Variant::FewTriggers, "few-triggers"),
        (Variant::NoAuthCache, "no-auth-cache"),
        (Variant::TxStopEvDisconnected, "tx-stop-ev-disconnected"),
        (Variant::MinimalDeviceModel, "minimal-device-model"),
        (Variant::WattsOnly, "watts-only"),
        (Variant::EvseSpecificReservations, "evse-specific-reservations"),
        (Variant::PlainDisplay, "plain-display"),
        (Variant::NoLocalCost, "no-local-cost"),
        (Variant::CostUpdated, "cost-updated"),
        (Variant::NoDer, "no-der"),
        (Variant::NoV2x, "no-v2x"),
    ];

    pub fn side(self) -> Side {
        match self {
            Variant::SlowAnswers => Side::Both,
            Variant::OwnCallFirst
            | Variant::SlowReconnect
            | Variant::NoConnectorZero
            | Variant::CustomData
            | Variant::TxStartPowerPath
            | Variant::NoConnectorLock
            | Variant::TxStartAuthorized
            | Variant::AuthorizeRemoteStart
            | Variant::NotifyEventOnly
            | Variant::TwoEvses
            | Variant::FewTriggers
            | Variant::NoAuthCache
            | Variant::TxStopEvDisconnected
            | Variant::MinimalDeviceModel
            | Variant::WattsOnly
            | Variant::EvseSpecificReservations
            | Variant::PlainDisplay
            | Variant::NoLocalCost
            | Variant::NoDer
            | Variant::NoV2x => Side::Station,
            Variant::StrictTokens
            | Variant::OneTransactionPerToken
            | Variant::RequirePreparing
            | Variant::OwnCallsAfterBoot
            | Variant::UpgradeThenClose
            | Variant::SlowSessionSetup
            | Variant::UniqueEventIds
            | Variant::LossyClose
            | Variant::CostUpdated => Side::Csms,
        }
    }

    /// Whether the variant means something for the DUT on `side` (Station or Csms).
    pub fn for_side(self, side: Side) -> bool {
        self.side() == Side::Both || self.side() == side
    }

    /// The optional features (or variables) the variant's DUT lacks, as words a case's skip
    /// reason uses for them: against this variant such skips are right, not a loss.
    pub fn lacks(self) -> &'static [&'static str] {
        match self {
            Variant::NoConnectorLock => &["lock"],
            Variant::FewTriggers => &["NotImplemented"],
            Variant::NoAuthCache => &["auth-cache"],
            Variant::MinimalDeviceModel => &["auth-cache", "HeartbeatInterval", "RetryBackOff"],
            Variant::EvseSpecificReservations => &["NonEvseSpecific"],
            Variant::PlainDisplay => &["AlwaysFront"],
            Variant::NoLocalCost => &["local cost calculation"],
            Variant::NoDer => &["DER control"],
            Variant::NoV2x => &["bidirectional power transfer"],
            _ => &[],
        }
    }

    /// What a lab's DUT description says about a station with this variant (TOML): the
    /// "<Configured …>" values part 6 leaves to the lab, such as the EVSE under test.
    pub fn lab_description(self) -> Option<&'static str> {
        match self {
            Variant::TwoEvses => Some("evses = 2\nevse-id = 2\nconnector-id = 1\n"),
            _ => None,
        }
    }

    /// The versions at which it changes anything.
    pub fn versions(self) -> &'static [ocpp_core::version::OcppVersion] {
        use ocpp_core::version::OcppVersion::*;
        match self {
            Variant::NoConnectorZero | Variant::RequirePreparing => &[V16],
            Variant::NoLocalCost | Variant::CostUpdated | Variant::NoDer | Variant::NoV2x => &[V21],
            Variant::CustomData
            | Variant::UniqueEventIds
            | Variant::TxStartPowerPath
            | Variant::TxStartAuthorized
            | Variant::AuthorizeRemoteStart
            | Variant::NotifyEventOnly
            | Variant::TwoEvses
            | Variant::FewTriggers
            | Variant::TxStopEvDisconnected
            | Variant::MinimalDeviceModel
            | Variant::WattsOnly
            | Variant::EvseSpecificReservations
            | Variant::PlainDisplay => &[V201, V21],
            _ => &[V16, V201, V21],
        }
    }
}

/// Whether `token` is an ISO 14443 UID as a strict CSMS wants it: 4 or 7 bytes in hex.
pub fn is_iso14443_uid(token: &str) -> bool {
    matches!(token.len(), 8 | 14) && token.bytes().all(|b| b.is_ascii_hexdigit())
}

impl FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Variant::ALL.iter().find(|(_, n)| *n == s).map(|(v, _)| *v).ok_or_else(|| {
            let names: Vec<&str> = Variant::ALL.iter().map(|(_, n)| *n).collect();
            format!("unknown variant {s:?}; known: {}", names.join(", "))
        })
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Variant::ALL.iter().find(|(v, _)| v == self).map(|(_, n)| *n).unwrap_or("?");
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_typos_are_refused() {
        for (v, n) in Variant::ALL {
            assert_eq!(n.parse::<Variant>().unwrap(), v);
            assert_eq!(v.to_string(), n);
        }
        assert!("own-call-frist".parse::<Variant>().unwrap_err().contains("own-call-first"));
    }

    #[test]
    fn iso14443_uids_are_4_or_7_bytes_of_hex() {
        for ok in ["04E91C5A8B2F80", "3a7f2c1d"] {
            assert!(is_iso14443_uid(ok), "{ok}");
        }
        for bad in ["TOKEN-1", "3A7F2C1", "04E91C5A8B2F8G", "04E91C5A8B2F8000", ""] {
            assert!(!is_iso14443_uid(bad), "{bad}");
        }
    }
}
