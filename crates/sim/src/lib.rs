//! Built-in reference DUTs: a charging station and a CSMS that behave correctly unless told
//! to misbehave through fault-injection switches. The harness's own tests use the faults to
//! prove that each case catches the non-conformance it is written for.
pub mod bench;
pub mod console;
pub mod control;
mod contract;
mod cost;
pub mod csms;
mod ev_schedule;
pub mod hostile;
pub mod station;
pub mod variant;

use std::{collections::HashMap, fmt, str::FromStr, sync::{Arc, Mutex}, time::Duration};

use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;
use tokio_tungstenite::tungstenite::Message;

use ocpp_core::{frame::Frame, schema::{self, Direction}, version::OcppVersion};

/// How late a `late-answer` fault answers: longer than any case waits for an answer.
pub const LATE_ANSWER: Duration = Duration::from_secs(20);

/// One way of misbehaving. Faults that name an action (`no-answer:Heartbeat`) apply to that
/// action only (`no-answer:Heartbeat@2`: from the DUT's second message of it on); without one
/// they apply to every action they can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Station: never send BootNotification.
    SkipBoot,
    /// The DUT's CALL or CALLRESULT payload breaks its schema.
    SchemaViolation(Option<String>),
    /// Answer with a message id that is not the CALL's.
    WrongMessageId(Option<String>),
    /// Answer long after the caller gave up.
    LateAnswer(Option<String>),
    /// Never answer.
    NoAnswer(Option<String>),
    /// Answer a supported action with CALLERROR NotImplemented.
    NotImplemented(Option<String>),
    /// Station: every transaction gets the same id.
    TransactionIdReuse,
    /// Station: drop the TCP connection right after starting a transaction.
    DropMidTransaction,
    /// Offer (station) or select (CSMS) a subprotocol other than the one under test.
    WrongSubprotocol,
    /// The DUT's CALL or CALLRESULT stays schema-valid but one enumerated value (a status,
    /// a reason...) is swapped for another the schema allows: behaviour, not syntax, is wrong.
    WrongValue(Option<String>),
    /// The DUT's `action` messages (CALLs or answers) carry a wrong but schema-valid value at
    /// one field: `path` is its key path without array indices (`idTokenInfo.status`), `*`
    /// every field. Strings and ids change too (see `wrong_leaf`), so a case that reads a
    /// field can be shown to fail when only that field is wrong. The third value is the first
    /// of the DUT's `action` messages to change (1: all; 2: from the second on, so a
    /// registration before the step part 6 validates goes through): `@2` after the path.
    WrongField(String, String, usize),
    /// Station: ignore the intervals the CSMS sets (heartbeat, boot retry, connection time-out);
    /// retry boots after 1 s.
    IgnoreInterval,
    /// Station: keep sending its other messages while the registration is Pending or Rejected.
    IgnoreRegistration,
    /// Station: treat every authorization answer as Accepted.
    AcceptAnyToken,
    /// Station: any Accepted token presented during a transaction ends it, not only the one
    /// that started it (C01.FR.03, E07: another token may stop it only through its group).
    StopForAnyToken,
    /// Station: the authorization cache is read before the local list (C13.FR.01 and
    /// C14.FR.01 want the list first).
    CacheBeforeList,
    /// Station: the local list is lost at a power cut or reset (D01.FR.10 recommends keeping it).
    ForgetLocalList,
    /// Station: a token the local list holds as Accepted is still sent in an Authorize
    /// (C14.FR.02: charging starts without one), and one it holds otherwise even with
    /// DisablePostAuthorize true.
    AskForListedToken,
    /// Station: send CALLs without waiting for the answer to the previous one.
    PipelineCalls,
    /// Station: take no notice of circuit faults (diode, RCD): keeps charging, never Faulted.
    IgnoreEvFaults,
    /// Station: a transaction the cable ends is reported as stopped locally (Local), not
    /// EVDisconnected.
    WrongStopReason,
    /// Station: every EVSE is operative again after a reboot, whatever the CSMS set.
    ForgetAvailability,
    /// Station: ChangeAvailability to the state it is in already is Rejected (G03.FR.03 and
    /// G04.FR.04 want Accepted).
    RejectSameAvailability,
    /// Station: ChangeAvailability Operative is Accepted but nothing becomes available.
    IgnoreOperative,
    /// Station: a transaction message without a CALLRESULT is sent again at once, forever
    /// (E13 wants MessageAttempts, MessageAttemptInterval apart).
    RetryForever,
    /// Station: clock-aligned meter readings carry context Sample.Periodic, not Sample.Clock.
    WrongReadingContext,
    /// Station: the Ended event carries no Sample.Periodic readings whatever
    /// SampledDataCtrlr.TxEndedInterval says (only Transaction.End).
    NoEndedSamples,
    /// Station: a firmware update is installed whatever its signing certificate and signature.
    SkipFirmwareChecks,
    /// Station: the device model report leaves out the TxCtrlr variables.
    IncompleteDeviceModel,
    /// Station, 2.x: no AuthCtrlr.LocalAuthorizeOffline, which part 2's appendix requires of
    /// every station (GetVariables and SetVariables answer UnknownVariable).
    NoRequiredVariable,
    /// Station: answer InstallCertificate Accepted even for text that is no certificate, and
    /// install an expired one.
    InstallAnyCertificate,
    /// Station: accept a new Basic-auth password but keep using the old one. CSMS: go on
    /// taking only the old one after the station accepted a new one.
    KeepOldPassword,
    /// Station: accept any server certificate (no chain, expiry or host name check).
    TrustAnyServer,
    /// Station: send no Basic Authorization header at security profiles 1 and 2.
    NoBasicAuth,
    /// Station: connect over plain ws:// even at security profiles 2 and 3.
    NoTls,
    /// Station: present no client certificate at security profile 3.
    NoClientCertificate,
    /// Station: report no security event in a SecurityEventNotification (a refused CSMS
    /// certificate, the tamper switch, its start-up).
    NoSecurityEvent,
    /// Station: a contactor, once closed, stays closed after the energy stops (welded, or
    /// never told to open): what the station reports and what its EVSE does part ways.
    ContactorStaysClosed,
    /// CSMS: let every station in, whatever Basic credentials it sends.
    AcceptAnyPassword,
    /// CSMS: take only the new password even when the station did not accept it.
    AdoptRejectedPassword,
    /// CSMS: authorize a group's members without telling their group.
    ForgetGroup,
    /// CSMS: answer a ClientHello offering only TLS 1.0/1.1 with a ServerHello for it.
    /// Station: on reconnections, go on with a CSMS that chose TLS 1.0/1.1.
    AcceptOldTls,
    /// Station: accept a network profile with a lower security profile than its own.
    AcceptDowngrade,
    /// Station: always connect to the configured CSMS URL, whatever the connection profiles.
    IgnoreConnectionProfiles,
    /// Station: keep trying the first slot of NetworkConfigurationPriority, never the next.
    NoFallback,
    /// Station (2.x): a reservation ends (expired, removed) without a ReservationStatusUpdate
    /// (H04.FR.01, H01.FR.16/17 want one).
    NoReservationUpdate,
    /// Station: accept a TxProfile for a connector (EVSE) without a transaction.
    AcceptStrayTxProfile,
    /// Station: leave the ChargePointMaxProfile (2.x ChargingStationMaxProfile) out of the
    /// composite schedule.
    IgnoreMaxProfile,
    /// 1.6 station: a reserved connector shows Reserved but any idTag may use it.
    IgnoreReservation,
    /// Station: TLS trusts only the factory CA, never a CSMS root installed since (M05.FR.13).
    IgnoreInstalledRoots,
    /// Station: after connecting at a raised security profile, the connection profiles below
    /// it stay (A05.FR.06).
    KeepLowerProfiles,
    /// CSMS: a station that moved to a higher security profile may still connect lower (A05.FR.07).
    AcceptLowerProfile,
    /// CSMS: ask for a client certificate but accept any (untrusted, expired) or none.
    AcceptAnyCertificate,
    /// CSMS: do not check that the client certificate names the connecting station.
    IgnoreCertificateCn,
    /// Every CALLERROR carries a code other than the one OCPP-J prescribes for the problem
    /// (GenericError for an unknown action, for instance).
    WrongErrorCode,
    /// Answers carry the CALL's message id cut to 32 characters (a column too narrow for
    /// OCPP-J's 36).
    TruncateMessageId,
    /// Every CALLERROR carries its details as text, not as the JSON object OCPP-J requires.
    ErrorDetailsText,
    /// CSMS: CALLs an operator asks for (console, control API, bench) are taken but never sent.
    IgnoreOperator,
    /// CSMS: a customer whose data the station cleared stays on its local list (N10.FR.02
    /// wants the list updated).
    KeepClearedInList,
    /// CSMS: the OCSP status of a V2G certificate comes as text in base64, not as a DER
    /// OCSPResponse (M06.FR.08/09).
    OcspResultNotDer,
    /// CSMS (2.x): an EV's contract certificate is taken as valid without asking its OCSP
    /// responder (C07.FR.05 wants real-time or cached OCSP data).
    SkipContractOcsp,
    /// CSMS (2.x): a contract certificate its responder calls revoked is Accepted anyway
    /// (C07.FR.16 wants CertificateRevoked and Invalid).
    AcceptRevokedContract,
    /// CSMS: Get15118EVCertificate is Accepted with an empty exiResponse (M01.FR.01 wants the
    /// EV's CertificateInstallationRes).
    EmptyEvCertificate,
    /// CSMS (2.x): an EV's charging needs are Accepted but no TxProfile follows (K15.FR.07).
    NeedsWithoutProfile,
    /// CSMS (2.x): an EV's schedule is Accepted even beyond the TxProfile it was given
    /// (K15.FR.12 wants it Rejected).
    AcceptAnyEvSchedule,
    /// CSMS: its clock is an hour behind (currentTime in BootNotification and Heartbeat answers).
    WrongClock,
    /// CSMS, 2.1: answers SEND frames, which OCPP-J 2.1 says nobody answers.
    AnswerSend,
    /// CSMS: a CALL carrying customData anywhere is refused with FormatViolation (a validator
    /// that does not know OCPP-J's extension point).
    RejectCustomData,
    /// CSMS: serves a TLS certificate from a CA the stations do not trust.
    UntrustedServerCertificate,
    /// CSMS: complete the WebSocket handshake whatever subprotocols are offered, selecting the
    /// first, and keep the connection (OCPP-J §3.2 wants it closed without one it supports).
    AcceptAnySubprotocol,
    /// Station (2.x): charging profiles are lost at a reboot (K01.FR.27 keeps them).
    ForgetChargingProfiles,
    /// Station (2.x): a profile's validFrom and validTo are not looked at (K01.FR.36/37).
    IgnoreProfileValidity,
    /// Station (2.x): RequestStartTransaction's chargingProfile is dropped, as a station without
    /// smart charging would (F01.FR.12), while the station does smart charging (F01.FR.10).
    IgnoreStartProfile,
    /// Station (2.x): GetChargingProfiles looks at the EVSE and the profile ids only, not at
    /// purpose, stack level or source (K09.FR.04/06 want every field matched).
    IgnoreProfileCriteria,
    /// Station (2.x): the profiles are reported and composed, but the EV draws its full power
    /// whatever they say (K01.FR.04 wants the TxProfile applied).
    IgnorePowerLimit,
    /// Station (2.x): a profile or composite schedule in a unit SmartChargingCtrlr.RateUnit
    /// does not list is taken anyway (K01.FR.26 and K08.FR.07 want it Rejected).
    AcceptAnyUnit,
    /// Station (2.x): the load-shedding input's limit is notified, reported and released as
    /// the CSO's own (K12.FR.04 forbids source CSO for an external limit).
    ExternalLimitAsCso,
    /// Station (2.x): a CSR the CSMS accepted is never sent again when no certificate comes
    /// (A02.FR.17 wants it sent after CertSigningWaitMinimum).
    NoCsrResend,
    /// Station (2.x): the CSR is sent again after CertSigningWaitMinimum each time, the back-off
    /// never doubled (A02.FR.18).
    NoCsrBackoff,
    /// Station (2.x): the CSR for a V2G certificate comes as ChargingStationCertificate
    /// (A02.FR.13 wants the type that was triggered, V2GCertificate).
    UntypedV2gCsr,
    /// Station (2.x): a new V2G certificate is taken without asking its OCSP status (M06.FR.07).
    NoOcspRefresh,
    /// Station (2.x): the V2G certificate chain is listed as its leaf alone, without the sub-CAs
    /// as children (M03.FR.05).
    FlatV2gChain,
    /// Station (2.x): Plug & Charge's Authorize carries the eMAID without the contract's OCSP
    /// data (C07.FR.02 wants iso15118CertificateHashData).
    PncWithoutHashData,
    /// Station (2.x): offline, an EV's contract is taken although ContractValidationOffline is
    /// false (C07.FR.07: no charging).
    PncOfflineCharges,
    /// Station (2.x): an ISO 15118 EV's charging needs go out without its AC or DC parameters
    /// (K15.FR.06, K17.FR.06).
    NeedsWithoutParameters,
    /// Station (2.x): a TxProfile for a negotiating ISO 15118 EV is taken, but the schedule
    /// the EV picks is never reported (K15.FR.10, K16.FR.05, K17.FR.10).
    NoEvSchedule,
    /// Station (2.x): once a schedule was agreed with the ISO 15118 EV, a new TxProfile is taken
    /// without renegotiating: no new schedule is reported (K16.FR.02/05, K17.FR.10).
    NoRenegotiatedSchedule,
    /// Station (2.x): an EV's contract certificate update goes to the CSMS as an installation
    /// (M02.FR.01 wants action Update).
    UpdateAsInstall,
    /// Station (2.x): a display message past its endDateTime is still kept and reported
    /// (O01.FR.07 wants it removed).
    KeepExpiredMessages,
    /// Station (2.x): a second AlwaysFront message is kept beside the first (O01.FR.16 wants
    /// it to replace it).
    TwoAlwaysFront,
    /// Station (2.x): display messages are lost on a reboot (O01.FR.10 wants them kept).
    ForgetDisplayMessages,
    /// Station (2.x): GetReport reports the whole device model whatever it selects (B08.FR.05
    /// and .11 want the report limited to it).
    IgnoreReportCriteria,
    /// Station (2.x): a Delta monitor of a negative value or a threshold outside the variable's
    /// range is set anyway (N04.FR.14 and .06 want it Rejected).
    AcceptAnyMonitor,
    /// Station (2.x): monitors report whatever their severity and the monitoring level
    /// (N05.FR.03 wants only those at or below the level).
    IgnoreMonitoringLevel,
    /// Station (2.x): a threshold monitor never says when the value is back within it
    /// (N07.FR.02 wants an event with cleared true).
    NoThresholdClear,
    /// Station (2.x): a transaction's Ended event carries seqNo 0 again instead of the next
    /// number (E01.FR.07, part 2 Sequence Number Generation).
    RestartSeqNo,
    /// Station (2.1): a second default tariff with an id already installed is Accepted
    /// (I07.FR.04 wants DuplicateTariffId).
    AcceptDuplicateTariff,
    /// Station (2.1): a tariff change is accepted but no TransactionEvent TariffChanged follows
    /// (I11.FR.07).
    SilentTariffChange,
    /// Station (2.1): the default tariff a transaction is charged by is never named in its
    /// TransactionEvents (I07.FR.32).
    UnannouncedTariff,
    /// Station (2.1) without local cost calculation: the tariff messages are answered Rejected
    /// instead of with a CALLERROR (I07.FR.01, I11.FR.01).
    RejectTariffUnsupported,
    /// Station (2.1): a DER control of a type it does not support is Accepted (R04.FR.01
    /// wants NotSupported).
    AcceptAnyDerControl,
    /// Station (2.1): a DER control with a lower priority value leaves the one before it in
    /// force (R04.FR.03 wants it superseded).
    DerNoSupersede,
    /// Station (2.1): ReportDERControl carries another requestId than GetDERControl's
    /// (R04.FR.31).
    DerWrongRequestId,
    /// Station (2.1): a scheduled DER control starts and ends without NotifyDERStartStop
    /// (R04.FR.20, R04.FR.22).
    DerNoStartStop,
    /// Station (2.1): V2XChargingCtrlr lists only ChargingOnly and Idle (Q01.FR.31 wants
    /// CentralSetpoint and CentralFrequency too).
    FewV2xModes,
    /// Station (2.1): a charging profile with an Idle period that sets a limit is Accepted
    /// (Q10.FR.02 wants Rejected, InvalidSchedule).
    IdleWithLimits,
    /// Station (2.1): an aFRR signal is Accepted without a LocalFrequency period to apply it to
    /// (Q08.FR.11 wants Rejected, NoSignalWattCurve).
    AcceptAnyAfrrSignal,
    /// CSMS (2.1): an EV's request for bidirectional transfer is answered NoChargingProfile
    /// (Q01.FR.04/07: Rejected, or Accepted or Processing).
    BptWithoutProfile,
    /// CSMS (2.1): the profile for a charging-only EV is in CentralSetpoint with a setpoint
    /// and a discharge limit (Q02.FR.01/02).
    DischargeInChargingOnly,
    /// CSMS (2.1): no running cost in the answer to a TransactionEvent with meter values, and
    /// no CostUpdated either (I02.FR.01).
    NoRunningCost,
    /// CSMS (2.1): no totalCost in the answer to a transaction's Ended event (I03.FR.02).
    NoTotalCost,
    /// Station (2.1): the total of the Ended event's cost breakdown is not the sum of its parts
    /// (I12.FR.17).
    WrongCostTotal,
    /// Station (2.x): a monitor on the write-only BasicAuthPassword reports the new password in
    /// its event (N07.FR.10 wants the actualValue empty).
    PasswordInEvent,
    /// Station (2.x): a threshold monitor removed while exceeded says it cleared (N07.FR.12
    /// forbids it).
    ClearRemovedThreshold,
    /// CSMS: monitors an operator clears go in one ClearVariableMonitoring, whatever the
    /// station's ItemsPerMessage (N06.FR.04 forbids more ids than it).
    OneClearRequest,
    /// Attacks on the other side's OCPP-J stack (see [`Hostile`]).
    Hostile(Hostile),
}

/// Faults that are plain switches, by name.
const SWITCHES: &[(&str, Fault)] = &[
    ("skip-boot", Fault::SkipBoot),
    ("transaction-id-reuse", Fault::TransactionIdReuse),
    ("drop-mid-transaction", Fault::DropMidTransaction),
    ("wrong-subprotocol", Fault::WrongSubprotocol),
    ("ignore-interval", Fault::IgnoreInterval),
    ("ignore-registration", Fault::IgnoreRegistration),
    ("accept-any-token", Fault::AcceptAnyToken),
    ("pipeline-calls", Fault::PipelineCalls),
    ("ignore-ev-faults", Fault::IgnoreEvFaults),
    ("wrong-stop-reason", Fault::WrongStopReason),
    ("keep-old-password", Fault::KeepOldPassword),
    ("install-any-certificate", Fault::InstallAnyCertificate),
    ("forget-availability", Fault::ForgetAvailability),
    ("reject-same-availability", Fault::RejectSameAvailability),
    ("ignore-operative", Fault::IgnoreOperative),
    ("retry-forever", Fault::RetryForever),
    ("wrong-reading-context", Fault::WrongReadingContext),
    ("no-ended-samples", Fault::NoEndedSamples),
    ("skip-firmware-checks", Fault::SkipFirmwareChecks),
    ("incomplete-device-model", Fault::IncompleteDeviceModel),
    ("no-required-variable", Fault::NoRequiredVariable),
    ("trust-any-server", Fault::TrustAnyServer),
    ("no-basic-auth", Fault::NoBasicAuth),
    ("no-tls", Fault::NoTls),
    ("no-client-certificate", Fault::NoClientCertificate),
    ("no-security-event", Fault::NoSecurityEvent),
    ("contactor-stays-closed", Fault::ContactorStaysClosed),
    ("accept-any-password", Fault::AcceptAnyPassword),
    ("adopt-rejected-password", Fault::AdoptRejectedPassword),
    ("forget-group", Fault::ForgetGroup),
    ("accept-old-tls", Fault::AcceptOldTls),
    ("accept-downgrade", Fault::AcceptDowngrade),
    ("ignore-connection-profiles", Fault::IgnoreConnectionProfiles),
    ("no-fallback", Fault::NoFallback),
    ("accept-stray-tx-profile", Fault::AcceptStrayTxProfile),
    ("ignore-max-profile", Fault::IgnoreMaxProfile),
    ("ignore-reservation", Fault::IgnoreReservation),
    ("no-reservation-update", Fault::NoReservationUpdate),
    ("ignore-installed-roots", Fault::IgnoreInstalledRoots),
    ("keep-lower-profiles", Fault::KeepLowerProfiles),
    ("accept-lower-profile", Fault::AcceptLowerProfile),
    ("accept-any-certificate", Fault::AcceptAnyCertificate),
    ("ignore-certificate-cn", Fault::IgnoreCertificateCn),
    ("wrong-error-code", Fault::WrongErrorCode),
    ("stop-for-any-token", Fault::StopForAnyToken),
    ("cache-before-list", Fault::CacheBeforeList),
    ("forget-local-list", Fault::ForgetLocalList),
    ("ask-for-listed-token", Fault::AskForListedToken),
    ("error-details-text", Fault::ErrorDetailsText),
    ("truncate-message-id", Fault::TruncateMessageId),
    ("accept-any-subprotocol", Fault::AcceptAnySubprotocol),
    ("ignore-operator", Fault::IgnoreOperator),
    ("keep-cleared-in-list", Fault::KeepClearedInList),
    ("ocsp-result-not-der", Fault::OcspResultNotDer),
    ("skip-contract-ocsp", Fault::SkipContractOcsp),
    ("accept-revoked-contract", Fault::AcceptRevokedContract),
    ("needs-without-profile", Fault::NeedsWithoutProfile),
    ("accept-any-ev-schedule", Fault::AcceptAnyEvSchedule),
    ("empty-ev-certificate", Fault::EmptyEvCertificate),
    ("wrong-clock", Fault::WrongClock),
    ("answer-send", Fault::AnswerSend),
    ("untrusted-server-certificate", Fault::UntrustedServerCertificate),
    ("reject-custom-data", Fault::RejectCustomData),
    ("forget-charging-profiles", Fault::ForgetChargingProfiles),
    ("ignore-profile-validity", Fault::IgnoreProfileValidity),
    ("ignore-start-profile", Fault::IgnoreStartProfile),
    ("ignore-profile-criteria", Fault::IgnoreProfileCriteria),
    ("ignore-power-limit", Fault::IgnorePowerLimit),
    ("accept-any-unit", Fault::AcceptAnyUnit),
    ("external-limit-as-cso", Fault::ExternalLimitAsCso),
    ("no-csr-resend", Fault::NoCsrResend),
    ("no-csr-backoff", Fault::NoCsrBackoff),
    ("pnc-without-hash-data", Fault::PncWithoutHashData),
    ("pnc-offline-charges", Fault::PncOfflineCharges),
    ("update-as-install", Fault::UpdateAsInstall),
    ("needs-without-parameters", Fault::NeedsWithoutParameters),
    ("no-ev-schedule", Fault::NoEvSchedule),
    ("no-renegotiated-schedule", Fault::NoRenegotiatedSchedule),
    ("untyped-v2g-csr", Fault::UntypedV2gCsr),
    ("no-ocsp-refresh", Fault::NoOcspRefresh),
    ("flat-v2g-chain", Fault::FlatV2gChain),
    ("keep-expired-messages", Fault::KeepExpiredMessages),
    ("two-always-front", Fault::TwoAlwaysFront),
    ("forget-display-messages", Fault::ForgetDisplayMessages),
    ("ignore-report-criteria", Fault::IgnoreReportCriteria),
    ("accept-any-monitor", Fault::AcceptAnyMonitor),
    ("ignore-monitoring-level", Fault::IgnoreMonitoringLevel),
    ("no-threshold-clear", Fault::NoThresholdClear),
    ("restart-seq-no", Fault::RestartSeqNo),
    ("accept-duplicate-tariff", Fault::AcceptDuplicateTariff),
    ("silent-tariff-change", Fault::SilentTariffChange),
    ("unannounced-tariff", Fault::UnannouncedTariff),
    ("wrong-cost-total", Fault::WrongCostTotal),
    ("no-running-cost", Fault::NoRunningCost),
    ("bpt-without-profile", Fault::BptWithoutProfile),
    ("discharge-in-charging-only", Fault::DischargeInChargingOnly),
    ("idle-with-limits", Fault::IdleWithLimits),
    ("few-v2x-modes", Fault::FewV2xModes),
    ("accept-any-afrr-signal", Fault::AcceptAnyAfrrSignal),
    ("accept-any-der-control", Fault::AcceptAnyDerControl),
    ("der-no-supersede", Fault::DerNoSupersede),
    ("der-wrong-request-id", Fault::DerWrongRequestId),
    ("der-no-start-stop", Fault::DerNoStartStop),
    ("no-total-cost", Fault::NoTotalCost),
    ("reject-tariff-unsupported", Fault::RejectTariffUnsupported),
    ("password-in-event", Fault::PasswordInEvent),
    ("clear-removed-threshold", Fault::ClearRemovedThreshold),
    ("one-clear-request", Fault::OneClearRequest),
];

/// What a hostile DUT does once it is registered (station) or connected (CSMS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// A text frame that is not JSON.
    NonJsonFrame,
    /// JSON that is not an OCPP-J message array.
    BadFrameShape,
    /// An array with a message type id OCPP-J does not define.
    UnknownMessageType,
    /// A binary frame.
    BinaryFrame,
    /// A CALL larger than the harness accepts.
    HugeFrame,
    /// Thousands of CALLs at once.
    Flood,
    /// Every CALL answered twice.
    AnswerTwice,
    /// The first fragment of a message, then the TCP connection goes.
    CloseMidMessage,
    /// Stops reading the socket.
    SlowReader,
    /// CSMS: answers the WebSocket upgrade with HTTP 503.
    RefuseHandshake,
}

impl Hostile {
    pub const ALL: [(Hostile, &str); 10] = [
        (Hostile::NonJsonFrame, "non-json-frame"),
        (Hostile::BadFrameShape, "bad-frame-shape"),
        (Hostile::UnknownMessageType, "unknown-message-type"),
        (Hostile::BinaryFrame, "binary-frame"),
        (Hostile::HugeFrame, "huge-frame"),
        (Hostile::Flood, "flood"),
        (Hostile::AnswerTwice, "answer-twice"),
        (Hostile::CloseMidMessage, "close-mid-message"),
        (Hostile::SlowReader, "slow-reader"),
        (Hostile::RefuseHandshake, "refuse-handshake"),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(h, _)| *h == self).map(|(_, n)| *n).unwrap_or("hostile")
    }

    pub fn named(name: &str) -> Option<Hostile> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(h, _)| *h)
    }
}

impl Fault {
    /// Faults that take an optional action (`no-answer:Heartbeat`).
    const WITH_ACTION: [&str; 7] = ["schema-violation", "wrong-message-id", "late-answer", "no-answer", "not-implemented", "wrong-value", "wrong-field"];

    /// The faults that switch on a misbehaviour (not a hostile frame, not a per-action
    /// fault): what `prove` tries last, each a broken DUT a case may be the one to catch.
    pub fn behaviours() -> impl Iterator<Item = (&'static str, Fault)> {
        SWITCHES.iter().map(|(n, f)| (*n, f.clone()))
    }

    /// Every fault name, for error messages and `--help`.
    pub fn names() -> Vec<&'static str> {
        let switches = SWITCHES.iter().map(|(n, _)| *n);
        Self::WITH_ACTION.into_iter().chain(switches).chain(Hostile::ALL.iter().map(|(_, n)| *n)).collect()
    }
}

impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, action) = match s.split_once(':') {
            Some((n, a)) if !a.is_empty() => (n, Some(a.to_string())),
            Some((n, _)) => (n, None),
            None => (s, None),
        };
        let plain = |f: Fault| if action.is_some() { Err(format!("fault {name} takes no action")) } else { Ok(f) };
        match name {
            "schema-violation" => Ok(Fault::SchemaViolation(action)),
            "wrong-message-id" => Ok(Fault::WrongMessageId(action)),
            "late-answer" => Ok(Fault::LateAnswer(action)),
            "no-answer" => Ok(Fault::NoAnswer(action)),
            "not-implemented" => Ok(Fault::NotImplemented(action)),
            "wrong-value" => Ok(Fault::WrongValue(action)),
            "wrong-field" => {
                let usage = || "fault wrong-field takes ACTION:PATH[@N] (wrong-field:Authorize:idTokenInfo.status, @2: from the second message on)".to_string();
                let (a, path) = action.as_deref().and_then(|a| a.split_once(':')).ok_or_else(usage)?;
                let (path, from) = match path.rsplit_once('@') {
                    Some((p, n)) => (p, n.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(usage)?),
                    None => (path, 1),
                };
                if a.is_empty() || path.is_empty() {
                    return Err(usage());
                }
                Ok(Fault::WrongField(a.to_string(), path.to_string(), from))
            }
            other => match SWITCHES.iter().find(|(n, _)| *n == other) {
                Some((_, f)) => plain(f.clone()),
                None => match Hostile::named(other) {
                    Some(h) => plain(Fault::Hostile(h)),
                    None => Err(format!("unknown fault {name:?}; known: {}", Fault::names().join(", "))),
                },
            },
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, action) = match self {
            Fault::SchemaViolation(a) => ("schema-violation", a.as_ref()),
            Fault::WrongMessageId(a) => ("wrong-message-id", a.as_ref()),
            Fault::LateAnswer(a) => ("late-answer", a.as_ref()),
            Fault::NoAnswer(a) => ("no-answer", a.as_ref()),
            Fault::NotImplemented(a) => ("not-implemented", a.as_ref()),
            Fault::WrongValue(a) => ("wrong-value", a.as_ref()),
            Fault::WrongField(a, path, 1) => return write!(f, "wrong-field:{a}:{path}"),
            Fault::WrongField(a, path, from) => return write!(f, "wrong-field:{a}:{path}@{from}"),
            Fault::Hostile(h) => (h.name(), None),
            switch => (SWITCHES.iter().find(|(_, f)| f == switch).map_or("?", |(n, _)| *n), None),
        };
        match action {
            Some(a) => write!(f, "{name}:{a}"),
            None => f.write_str(name),
        }
    }
}

/// The faults a DUT has, and (shared by its clones) how many messages of each action it has
/// sent, for faults that start at a later message.
#[derive(Debug, Clone, Default)]
pub struct Faults(pub Vec<Fault>, Arc<Mutex<HashMap<String, usize>>>);

impl Faults {
    pub fn new(faults: Vec<Fault>) -> Faults {
        Faults(faults, Default::default())
    }

    pub fn has(&self, f: &Fault) -> bool {
        self.0.contains(f)
    }

    /// Whether a fault of this kind applies to `action`: every action, the one named, or
    /// (`Action@N`) the one named from the DUT's Nth message of it on.
    fn matches(&self, action: &str, kind: impl Fn(&Fault) -> Option<&Option<String>>) -> bool {
        self.0.iter().filter_map(kind).any(|a| match a.as_deref() {
            None => true,
            Some(a) => match a.split_once('@') {
                Some((name, n)) => name == action && n.parse::<usize>().is_ok_and(|n| self.seen(action) >= n),
                None => a == action,
            },
        })
    }

    /// Count one more message of `action` sent by the DUT (a CALL or its answer).
    fn bump(&self, action: &str) {
        *self.1.lock().unwrap_or_else(|e| e.into_inner()).entry(action.to_string()).or_default() += 1;
    }

    /// How many messages of `action` the DUT has sent, the one being sent included.
    fn seen(&self, action: &str) -> usize {
        self.1.lock().unwrap_or_else(|e| e.into_inner()).get(action).copied().unwrap_or_default()
    }

    pub fn hostile(&self) -> Option<Hostile> {
        self.0.iter().find_map(|f| if let Fault::Hostile(h) = f { Some(*h) } else { None })
    }

    pub fn schema_violation(&self, action: &str) -> bool {
        self.matches(action, |f| if let Fault::SchemaViolation(a) = f { Some(a) } else { None })
    }

    pub fn wrong_value(&self, action: &str) -> bool {
        self.matches(action, |f| if let Fault::WrongValue(a) = f { Some(a) } else { None })
    }

    /// Apply the faults that alter a message the DUT sends (CALL or CALLRESULT payload).
    pub fn alter(&self, version: OcppVersion, action: &str, dir: Direction, payload: &mut Value) {
        if self.wrong_value(action) {
            swap_enum(version, action, dir, payload);
        }
        // A CALL of the DUT is counted here, an answer in `answer`.
        if dir == Direction::Request {
            self.bump(action);
        }
        let n = self.seen(action);
        for f in &self.0 {
            if let Fault::WrongField(a, path, from) = f {
                if a == action && n >= *from {
                    wrong_field(version, action, dir, payload, path);
                }
            }
        }
        if self.schema_violation(action) {
            corrupt(version, action, dir, payload);
        }
    }
}

/// Make a message wrong but keep it schema-valid: every enumerated value becomes the next one
/// its schema allows, every boolean flips and every number grows by one. Returns whether
/// anything changed.
pub fn swap_enum(version: OcppVersion, action: &str, dir: Direction, payload: &mut Value) -> bool {
    let Some(schema) = schema::schema_value(version, action, dir) else { return false };
    let mut changed = false;
    leaves(&schema, &schema, "", payload, &mut |_, s, v| {
        changed |= match next_option(s, v) {
            Some(swapped) => swapped,
            None => match v {
                Value::Bool(b) => {
                    *b = !*b;
                    true
                }
                // Numbers only grow where no upper bound could be crossed.
                Value::Number(n) if s.get("maximum").is_none() && s.get("exclusiveMaximum").is_none() => match (n.as_i64(), n.as_f64()) {
                    (Some(i), _) => {
                        *v = Value::from(i + 1);
                        true
                    }
                    (None, Some(f)) => {
                        *v = json!(f + 1.0);
                        true
                    }
                    _ => false,
                },
                _ => false,
            },
        };
    });
    changed
}

/// The schema of `s` with a local `$ref` followed.
fn resolved<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/definitions/")) {
        Some(name) => root.get("definitions").and_then(|d| d.get(name)).unwrap_or(s),
        None => s,
    }
}

/// Visit every leaf of `v` (a value that is not an object or array) with its key path (keys
/// joined by '.', array indices left out) and its schema.
fn leaves(root: &Value, s: &Value, path: &str, v: &mut Value, visit: &mut dyn FnMut(&str, &Value, &mut Value)) {
    let s = resolved(root, s);
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if let Some(cs) = s.get("properties").and_then(|p| p.get(k)) {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    leaves(root, cs, &p, child, visit);
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = s.get("items") {
                for child in items {
                    leaves(root, is, path, child, visit);
                }
            }
        }
        _ => visit(path, s, v),
    }
}

/// The key paths of the leaves of a message that `wrong-field` can change, in message order.
pub fn mutable_fields(version: OcppVersion, action: &str, dir: Direction, payload: &Value) -> Vec<String> {
    let Some(schema) = schema::schema_value(version, action, dir) else { return vec![] };
    let mut out: Vec<String> = vec![];
    let mut copy = payload.clone();
    leaves(&schema, &schema, "", &mut copy, &mut |path, s, v| {
        if wrong_leaf(s, v) && !out.iter().any(|p| p == path) {
            out.push(path.to_string());
        }
    });
    out
}

/// Change the leaves at `path` (`*`: all) to a wrong value their schema still allows.
pub fn wrong_field(version: OcppVersion, action: &str, dir: Direction, payload: &mut Value, path: &str) -> bool {
    let Some(schema) = schema::schema_value(version, action, dir) else { return false };
    let mut changed = false;
    leaves(&schema, &schema, "", payload, &mut |p, s, v| {
        if path == "*" || p == path {
            changed |= wrong_leaf(s, v);
        }
    });
    changed
}

/// A leaf whose schema enumerates its values: it becomes the next one (whether it could);
/// None for a leaf without an enumeration.
fn next_option(s: &Value, v: &mut Value) -> Option<bool> {
    let options = s.get("enum").and_then(Value::as_array)?;
    Some(match options.iter().position(|o| o == v) {
        Some(i) if options.len() >= 2 => {
            *v = options[(i + 1) % options.len()].clone();
            true
        }
        _ => false,
    })
}

/// One leaf made wrong within its schema: an enumerated value becomes the next one, a
/// boolean flips, a number moves by one inside its bounds, a date-time moves a year on, any
/// other string (an id, a token, a name) has its last character changed within its class
/// (so length and pattern hold). False where nothing can change (an empty string).
fn wrong_leaf(s: &Value, v: &mut Value) -> bool {
    if let Some(swapped) = next_option(s, v) {
        return swapped;
    }
    match v {
        Value::Bool(b) => {
            *b = !*b;
            true
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or_default();
            let max = s.get("maximum").and_then(Value::as_f64).unwrap_or(f64::INFINITY);
            let min = s.get("minimum").and_then(Value::as_f64).unwrap_or(f64::NEG_INFINITY);
            let to = if x + 1.0 <= max { x + 1.0 } else if x - 1.0 >= min { x - 1.0 } else { return false };
            *v = match n.as_i64() {
                Some(_) => Value::from(to as i64),
                None => json!(to),
            };
            true
        }
        Value::String(text) if s.get("format").and_then(Value::as_str) == Some("date-time") => {
            match text.get(..4).and_then(|y| y.parse::<u32>().ok()) {
                Some(year) => {
                    *text = format!("{}{}", year + 1, &text[4..]);
                    true
                }
                None => false,
            }
        }
        Value::String(text) => {
            let Some(last) = text.pop() else { return false };
            text.push(match last {
                '0'..='8' | 'a'..='y' | 'A'..='Y' => char::from(last as u8 + 1),
                '9' => '0',
                'z' => 'a',
                'Z' => 'A',
                _ => 'X',
            });
            true
        }
        _ => false,
    }
}

/// Another CALLERROR code every version defines, for `wrong-value` on errors.
impl Faults {
    /// The CALLERROR a DUT with these faults sends where OCPP-J prescribes `code`; `swap` also
    /// changes the code (fault wrong-value).
    pub fn call_error(&self, id: String, code: &str, description: String, swap: bool) -> Frame {
        let code = if swap || self.has(&Fault::WrongErrorCode) { other_error_code(code) } else { code };
        let details = if self.has(&Fault::ErrorDetailsText) { json!("no details") } else { json!({}) };
        Frame::CallError { id, code: code.into(), description, details }
    }
}

pub fn other_error_code(code: &str) -> &'static str {
    if code == "GenericError" { "InternalError" } else { "GenericError" }
}

/// Break a payload against its schema in a way any validator reports: the first required
/// property gets a value of the wrong JSON type.
pub fn corrupt(version: OcppVersion, action: &str, dir: Direction, payload: &mut Value) {
    let first = schema::schema_value(version, action, dir)
        .and_then(|s| s.get("required")?.as_array()?.first()?.as_str().map(str::to_string));
    match first {
        Some(name) => payload[name] = if payload[&name].is_boolean() { json!("x") } else { json!(true) },
        None => payload["unexpectedProperty"] = json!(true),
    }
}

/// Send the DUT's answer to a CALL it received, with whatever faults apply to the action.
pub fn answer(tx: &UnboundedSender<Message>, faults: &Faults, version: OcppVersion, id: &str, action: &str, reply: Result<Value, (&str, String)>) {
    faults.bump(action);
    if faults.matches(action, |f| if let Fault::NoAnswer(a) = f { Some(a) } else { None }) {
        return;
    }
    let id = if faults.matches(action, |f| if let Fault::WrongMessageId(a) = f { Some(a) } else { None }) {
        format!("{id}-x")
    } else if faults.has(&Fault::TruncateMessageId) {
        id.chars().take(32).collect()
    } else {
        id.to_string()
    };
    let not_impl = faults.matches(action, |f| if let Fault::NotImplemented(a) = f { Some(a) } else { None });
    let frame = match reply {
        _ if not_impl => Frame::CallError { id, code: "NotImplemented".into(), description: format!("{action} is not implemented"), details: json!({}) },
        Ok(mut payload) => {
            faults.alter(version, action, Direction::Response, &mut payload);
            Frame::CallResult { id, payload }
        }
        Err((code, description)) => faults.call_error(id, code, description, faults.wrong_value(action)),
    };
    let msg = Message::text(frame.to_text());
    if faults.hostile() == Some(Hostile::AnswerTwice) {
        let _ = tx.send(msg.clone());
    }
    if faults.matches(action, |f| if let Fault::LateAnswer(a) = f { Some(a) } else { None }) {
        let tx = tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(LATE_ANSWER).await;
            let _ = tx.send(msg);
        });
    } else {
        let _ = tx.send(msg);
    }
}

/// Aborts the writer task when the connection handler returns.
pub struct Writer {
    task: tokio::task::JoinHandle<()>,
    /// Asks the writer to say when everything queued before has been written.
    flush: UnboundedSender<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How long a writer may take to put the last answers on the wire before the socket goes.
pub const FLUSH_WITHIN: Duration = Duration::from_secs(1);

impl Writer {
    /// Wait until every message queued so far is written (at most `within`): the last answer
    /// reaches the peer before the connection is dropped.
    pub async fn flushed(&self, within: Duration) {
        let (done, written) = tokio::sync::oneshot::channel();
        if self.flush.send(done).is_ok() {
            let _ = tokio::time::timeout(within, written).await;
        }
    }
}

/// Split a WebSocket into its incoming stream and a channel that a writer task drains, so
/// handlers (and delayed, faulty answers) can send without owning the sink.
pub fn split<S>(ws: tokio_tungstenite::WebSocketStream<S>) -> (futures_util::stream::SplitStream<tokio_tungstenite::WebSocketStream<S>>, UnboundedSender<Message>, Writer)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use futures_util::{SinkExt, StreamExt};
    let (mut sink, stream) = ws.split();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let (flush, mut flushes) = tokio::sync::mpsc::unbounded_channel::<tokio::sync::oneshot::Sender<()>>();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
                m = rx.recv() => {
                    let Some(m) = m else { break };
                    if sink.send(m).await.is_err() {
                        break;
                    }
                }
                // Messages sent before the request are already queued: write them, then answer.
                Some(done) = flushes.recv() => {
                    while let Ok(m) = rx.try_recv() {
                        if sink.send(m).await.is_err() {
                            return;
                        }
                    }
                    let _ = done.send(());
                }
            }
        }
    });
    (stream, tx, Writer { task, flush })
}

/// Validate a CALL the DUT received; the error is the CALLERROR a conformant DUT sends.
pub fn check_call(version: OcppVersion, action: &str, payload: &Value) -> Result<(), (&'static str, String)> {
    schema::validate(version, action, Direction::Request, payload).map_err(|e| (e.error_code(version), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_print() {
        for s in ["skip-boot", "no-answer", "no-answer:Heartbeat", "schema-violation:BootNotification", "wrong-subprotocol"] {
            assert_eq!(s.parse::<Fault>().unwrap().to_string(), s);
        }
        assert!("skip-boot:Heartbeat".parse::<Fault>().is_err());
        assert!("explode".parse::<Fault>().unwrap_err().contains("known:"));
    }

    #[test]
    fn swapped_enums_stay_valid_but_differ() {
        let mut p = json!({"currentTime": "2024-01-01T00:00:00Z", "interval": 10, "status": "Accepted"});
        assert!(swap_enum(OcppVersion::V201, "BootNotification", Direction::Response, &mut p));
        assert_ne!(p["status"], "Accepted");
        assert!(schema::validate(OcppVersion::V201, "BootNotification", Direction::Response, &p).is_ok());
        // Nested, through a $ref: the idTokenInfo status of an Authorize answer.
        let mut a = json!({"idTokenInfo": {"status": "Accepted"}});
        assert!(swap_enum(OcppVersion::V201, "Authorize", Direction::Response, &mut a));
        assert_ne!(a["idTokenInfo"]["status"], "Accepted");
        // 1.6 schemas inline their enums.
        let mut r = json!({"status": "Accepted"});
        assert!(swap_enum(OcppVersion::V16, "RemoteStartTransaction", Direction::Response, &mut r));
        assert_eq!(r["status"], "Rejected");
        // Booleans flip, numbers grow, and the result is still valid.
        let mut t = json!({"messagesInQueue": false, "ongoingIndicator": true});
        assert!(swap_enum(OcppVersion::V201, "GetTransactionStatus", Direction::Response, &mut t));
        assert_eq!(t, json!({"messagesInQueue": true, "ongoingIndicator": false}));
        let mut l = json!({"listVersion": 0});
        assert!(swap_enum(OcppVersion::V16, "GetLocalListVersion", Direction::Response, &mut l));
        assert_eq!(l["listVersion"], 1);
        assert!(schema::validate(OcppVersion::V16, "GetLocalListVersion", Direction::Response, &l).is_ok());
        // Nothing to swap: nothing changes.
        let mut h = json!({});
        assert!(!swap_enum(OcppVersion::V201, "Heartbeat", Direction::Request, &mut h));
    }

    #[test]
    fn wrong_field_changes_one_field_and_stays_valid() {
        let v = OcppVersion::V201;
        let ev = json!({
            "eventType": "Started", "timestamp": "2026-12-07T10:00:00Z", "triggerReason": "Authorized", "seqNo": 0,
            "transactionInfo": {"transactionId": "TX-1", "chargingState": "Charging"},
            "idToken": {"idToken": "AB12", "type": "ISO14443"}
        });
        let fields = mutable_fields(v, "TransactionEvent", Direction::Request, &ev);
        for f in ["eventType", "timestamp", "seqNo", "transactionInfo.transactionId", "transactionInfo.chargingState", "idToken.idToken"] {
            assert!(fields.iter().any(|p| p == f), "{f} in {fields:?}");
        }
        for path in &fields {
            let mut p = ev.clone();
            assert!(wrong_field(v, "TransactionEvent", Direction::Request, &mut p, path), "{path}");
            assert!(schema::validate(v, "TransactionEvent", Direction::Request, &p).is_ok(), "{path}: {p}");
            // Exactly one leaf differs.
            let differs = |a: &Value, b: &Value| a.to_string() != b.to_string();
            let changed = ["eventType", "timestamp", "triggerReason", "seqNo"].iter().filter(|k| differs(&p[**k], &ev[**k])).count()
                + ["transactionId", "chargingState"].iter().filter(|k| differs(&p["transactionInfo"][**k], &ev["transactionInfo"][**k])).count()
                + ["idToken", "type"].iter().filter(|k| differs(&p["idToken"][**k], &ev["idToken"][**k])).count();
            assert_eq!(changed, 1, "{path}: {p}");
        }
        // Strings keep their length and class, dates move a year on.
        let mut p = ev.clone();
        wrong_field(v, "TransactionEvent", Direction::Request, &mut p, "idToken.idToken");
        assert_eq!(p["idToken"]["idToken"], "AB13");
        wrong_field(v, "TransactionEvent", Direction::Request, &mut p, "timestamp");
        assert_eq!(p["timestamp"], "2027-12-07T10:00:00Z");
        wrong_field(v, "TransactionEvent", Direction::Request, &mut p, "seqNo");
        assert_eq!(p["seqNo"], 1);
    }

    #[test]
    fn faults_from_a_later_message_on() {
        let f: Fault = "wrong-field:BootNotification:status@2".parse().unwrap();
        assert_eq!(f, Fault::WrongField("BootNotification".into(), "status".into(), 2));
        assert_eq!(f.to_string(), "wrong-field:BootNotification:status@2");
        assert!("wrong-field:BootNotification".parse::<Fault>().is_err());
        assert!("wrong-field:BootNotification:status@0".parse::<Fault>().is_err());
        let faults = Faults::new(vec![f, "not-implemented:Heartbeat@2".parse().unwrap()]);
        let boot = || json!({"currentTime": "2026-12-07T10:00:00Z", "interval": 300, "status": "Accepted"});
        let (mut first, mut second) = (boot(), boot());
        faults.bump("BootNotification");
        faults.alter(OcppVersion::V201, "BootNotification", Direction::Response, &mut first);
        faults.bump("BootNotification");
        faults.alter(OcppVersion::V201, "BootNotification", Direction::Response, &mut second);
        assert_eq!(first["status"], "Accepted");
        assert_ne!(second["status"], "Accepted");
        let refused = |f: &Faults| f.matches("Heartbeat", |f| if let Fault::NotImplemented(a) = f { Some(a) } else { None });
        faults.bump("Heartbeat");
        assert!(!refused(&faults));
        faults.bump("Heartbeat");
        assert!(refused(&faults));
    }

    #[test]
    fn corrupt_payloads_fail_validation() {
        let mut p = json!({"currentTime": "2024-01-01T00:00:00Z", "interval": 10, "status": "Accepted"});
        corrupt(OcppVersion::V201, "BootNotification", Direction::Response, &mut p);
        assert!(schema::validate(OcppVersion::V201, "BootNotification", Direction::Response, &p).is_err());
    }
}
