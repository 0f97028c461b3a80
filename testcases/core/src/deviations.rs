//! Where a case knowingly differs from its part-6 table, and why: errors in the table itself
//! (a field it names that the message does not have, a value its enumeration lacks) and its
//! "if … else" steps that the table index keeps one branch of. `fidelity` accepts a difference
//! at a declared step; `coverage`, `list --json` and the report show the declarations.

pub(crate) const DEVIATIONS: &[(&str, &[&str])] = &[
    ("TC_B_21_CSMS", &["step 1: the reset kind OnIdle is checked in ResetRequest.type, because part 6 names it status, a field ResetRequest does not have"]),
    ("TC_B_22_CSMS", &["step 1: the reset kind Immediate is checked in ResetRequest.type, because part 6 names it status, a field ResetRequest does not have"]),
    ("TC_J_02_CSMS", &["step 3: the clock-aligned readings carry context Sample.Clock, because part 6's Sample.Circle is no ReadingContextEnumType value"]),
    ("TC_B_39_CS", &["step 1: the variable set is one the station has read-only (the DUT description's read-only-variable, ChargingStation.AvailabilityState by default), because part 6's OCPPCommCtrlr.MessageTimeout[Default] is writable in many stations (the reference station's too) and B05.FR.09 is about a read-only one"]),
    ("TC_C_39_CSMS", &["step 3: eventType Updated, because part 6 sends Updated when the transaction started already, as it did at the cable (EVConnectedPreSession)"]),
    ("TC_B_55_CS", &["step 1: the instance GetReport is sent in componentVariable[0].variable.instance, because part 6's componentVariable.instance is no field of GetReportRequest and its tool validation expects the ItemsPerMessage variable of that instance"]),
    ("TC_N_51_CS", &["step 2: the monitor is set again as an UpperThreshold, because part 6's request names both UpperThreshold and LowerThreshold and its tool validation expects UpperThreshold in the result"]),
    ("TC_K_55_CSMS", &["step 9: the CSMS's new TxProfile is taken before the EV's charging event of step 7, because a CSMS may renegotiate as soon as it rejected the schedule (K15.FR.13), as the reference CSMS does"]),
    ("TC_M_27_CS", &["step 2: exiResponse is empty, because part 6 omits it and Get15118EVCertificateResponse requires it"]),
    ("TC_M_29_CS", &["step 2: exiResponse is empty, because part 6 omits it and Get15118EVCertificateResponse requires it"]),
    ("TC_C_29_CS", &["step 2: the CSMS answers Blocked, because part 6's Restricted is no AuthorizationStatusEnumType value and Blocked is the status the local list holds"]),
];
