//! Measurements behind `ocpp-harness bench` and `ocpp-harness load`: what the harness itself
//! costs (per case, per message), what suites cost to compile and instantiate, and how many
//! simulated stations a machine carries. Printed as figures, never asserted in tests.
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use ocpp_sim::{self as dut, station::StationConfig};
use crate::host::{CaseContext, Endpoint, GuestOutcome, Host, RunConfig, Suite};
use ocpp_core::{trace::Trace, transport::{self, ws_config}, version::OcppVersion};

/// Percentiles of a sample of durations.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub n: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Stats {
    pub fn of(mut v: Vec<Duration>) -> Stats {
        v.sort();
        let at = |q: f64| v.get(((v.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default();
        Stats { n: v.len(), p50: at(0.50), p99: at(0.99), max: v.last().copied().unwrap_or_default() }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        write!(f, "p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs (n={})", us(self.p50), us(self.p99), us(self.max), self.n)
    }
}

/// Resident memory of this process, from /proc (Linux).
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// The process's limit on open files, from /proc (Linux): an in-process load run needs two
/// per station (the station's socket and the CSMS's).
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    limits.lines().find(|l| l.starts_with("Max open files"))?.split_whitespace().nth(3)?.parse().ok()
}

/// Compile time of a suite without the cache, then its load time from the cache.
pub async fn compile_times(name: &str, bytes: &[u8], cache: &std::path::Path) -> anyhow::Result<(Duration, Duration)> {
    let _ = std::fs::remove_dir_all(cache);
    let host = Host::new(Some(cache.to_path_buf()))?;
    let cold = host.load_suite(name, bytes).await?.load_time;
    let warm = host.load_suite(name, bytes).await?.load_time;
    Ok((cold, warm))
}

/// The harness's own cost of one case: a fresh instance and a call of a case that returns at
/// once (no DUT), `n` times.
pub async fn case_overhead(host: &Host, suite: &Suite, case: &str, n: usize) -> anyhow::Result<Stats> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let ctx = Arc::new(CaseContext {
            trace: Trace::new(),
            started: Instant::now(),
            config: RunConfig::default(),
            version: OcppVersion::V201,
            endpoint: Endpoint::None,
            bench: ocpp_bench::Bench::none(),
            security: Default::default(),
            leftovers: Default::default(),
            own_station: Default::default(),
            configuration: Default::default(),
        });
        let t0 = Instant::now();
        match host.run_case(suite, case, ctx, Duration::from_secs(10)).await {
            GuestOutcome::Verdict(_) => samples.push(t0.elapsed()),
            GuestOutcome::Error(e) => anyhow::bail!("{case}: {e}"),
        }
    }
    Ok(Stats::of(samples))
}

/// Round trips of a Heartbeat CALL to the reference CSMS on loopback: through the harness's
/// session (framing, ids, validation, trace) and through a bare WebSocket client.
pub async fn message_latency(n: usize) -> anyhow::Result<(Stats, Stats)> {
    let (addr, _csms, task) = dut::csms::start("127.0.0.1:0".parse()?, dut::csms::CsmsConfig::default()).await?;
    let base = format!("ws://{addr}/ocpp");
    let conn = transport::connect(&base, "BENCH-1", OcppVersion::V201, Trace::new(), Duration::from_secs(5), &Default::default()).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut harness = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        conn.call("Heartbeat", json!({}), Duration::from_secs(5)).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        harness.push(t0.elapsed());
    }
    let mut req = format!("{base}/BENCH-2").into_client_request()?;
    req.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("ocpp2.0.1"));
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(ws_config()), true).await?;
    let mut raw = Vec::with_capacity(n);
    for i in 0..n {
        let t0 = Instant::now();
        ws.send(Message::text(format!(r#"[2,"{i}","Heartbeat",{{}}]"#))).await?;
        while let Some(m) = ws.next().await {
            if matches!(m?, Message::Text(_)) {
                break;
            }
        }
        raw.push(t0.elapsed());
    }
    task.abort();
    Ok((Stats::of(harness), Stats::of(raw)))
}

/// Stations registering at the same time during a load ramp.
const RAMP_WINDOW: usize = 256;

/// What a load run measured.
#[derive(Debug)]
pub struct LoadReport {
    pub stations: usize,
    pub booted: usize,
    /// From the first connection attempt until every station was registered.
    pub ramp: Duration,
    /// Resident memory added by the stations (and the CSMS, when it runs in-process).
    pub rss_added: u64,
    /// Per station: from its start to its first accepted BootNotification.
    pub registration: Stats,
}

impl LoadReport {
    pub fn per_second(&self) -> f64 {
        self.booted as f64 / self.ramp.as_secs_f64().max(1e-9)
    }

    pub fn stations_per_gib(&self) -> f64 {
        self.booted as f64 * (1u64 << 30) as f64 / (self.rss_added.max(1) as f64)
    }
}

/// Start `stations` reference stations against `csms_url` (default: an in-process reference
/// CSMS) and wait until all are registered or `deadline` passes. `progress` sees the count.
pub async fn load(csms_url: Option<String>, stations: usize, version: OcppVersion, deadline: Duration, progress: impl Fn(usize)) -> anyhow::Result<LoadReport> {
    let rss0 = rss_bytes().unwrap_or(0);
    let mut csms_task = None;
    let url = match csms_url {
        Some(u) => u,
        None => {
            let cfg = dut::csms::CsmsConfig { heartbeat_interval: 300, ..Default::default() };
            let (addr, _h, task) = dut::csms::start("127.0.0.1:0".parse()?, cfg).await?;
            csms_task = Some(task);
            format!("ws://{addr}/ocpp")
        }
    };
    let t0 = Instant::now();
    let mut handles = Vec::with_capacity(stations);
    let mut tasks = Vec::with_capacity(stations);
    let mut booted = 0;
    let mut last_progress = Instant::now();
    // Keep a window of stations registering at once: a burst of thousands of SYNs overflows
    // the listen backlog and turns into TCP retransmission delays, not a ramp rate.
    while Instant::now() - t0 < deadline {
        booted = handles.iter().filter(|h: &&dut::station::StationHandle| h.is_booted()).count();
        if last_progress.elapsed() > Duration::from_millis(20) || booted == stations {
            progress(booted);
            last_progress = Instant::now();
        }
        if booted == stations {
            break;
        }
        let in_flight = handles.len() - booted;
        if handles.len() < stations && in_flight < RAMP_WINDOW {
            for i in handles.len()..(handles.len() + RAMP_WINDOW - in_flight).min(stations) {
                let mut cfg = StationConfig::new(url.clone(), format!("LOAD-{i:06}"), version);
                cfg.reconnect_min = Duration::from_millis(200);
                let (h, t) = dut::station::spawn(cfg);
                handles.push(h);
                tasks.push(t);
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let ramp = t0.elapsed();
    let rss_added = rss_bytes().unwrap_or(0).saturating_sub(rss0);
    let registration = Stats::of(handles.iter().filter_map(|h| h.registration_time()).collect());
    for t in tasks {
        t.abort();
    }
    if let Some(t) = csms_task {
        t.abort();
    }
    Ok(LoadReport { stations, booted, ramp, rss_added, registration })
}
