//! `GET /live`: a WebSocket stream of what changed, at the rate each client asks for.
//!
//! # Frames
//!
//! Each frame is one JSON text message:
//!
//! ```text
//! {"seq":0,"t":1733400000.125,"fps":10,"full":true,"bands":[1e-6, …, 100.0],
//!  "counters":{"http_requests{route=\"/\"}":12,…},"gauges":{…},
//!  "histograms":{"latency_seconds":{"count":3,"sum":0.12,"p50":…,"p90":…,"p99":…,"max":…,"bands":[0,…]}},
//!  "removed":[]}
//! ```
//!
//! The first frame (`full: true`) holds every series and the heatmap band bounds; each
//! later one only the series whose value changed since the previous frame sent to this
//! client, and the ids of series that are gone. A frame is sent at every tick, empty when
//! nothing changed, so a client sees the stream is alive. Series ids are
//! [`RegistrySummary`](crate::RegistrySummary)'s (`name{label="value"}`); histogram figures
//! are in base units (seconds for time), `bands` counts every value ever recorded by band:
//! band `i` holds values above `bands[i-1]` up to `bands[i]`, the last band values above the
//! last bound. Differences of consecutive frames' bands give a heatmap column.
//!
//! # Rate and back-pressure
//!
//! The rate is `?fps=N` (1 to 60; above 60 is served at 60; default 10), and a text message
//! `N` or `{"fps":N}` from the client changes it. Every client's frames come from one shared
//! view of the registry, gathered at most once per 1/60 s whatever the number of clients.
//! Frames wait in a queue of [`Limits::live_queue_frames`](super::Limits) per client; a
//! client whose queue is full when a frame is due has fallen that many frames behind and
//! is dropped, so a slow client costs a bounded amount of memory.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};

use super::MAX_FPS;
use super::http::{Body, State, query_values, respond};
use crate::clock;
use crate::collect::SeriesValue;
use crate::histogram::HistogramSnapshot;
use crate::registry::Registry;
use crate::stats::{HistogramSummary, series_id};

/// The rate when the client asks for none.
const DEFAULT_FPS: u32 = 10;

/// Heatmap band bounds in base units: four per decade from 1 µs to 100 s.
static BANDS: std::sync::LazyLock<Vec<f64>> = std::sync::LazyLock::new(|| {
    (0..=32)
        .map(|i| 10f64.powf(-6.0 + f64::from(i) / 4.0))
        .collect()
});

/// WebSocket clients and the latest shared view of the registry.
#[derive(Default)]
pub(crate) struct Hub {
    clients: AtomicUsize,
    latest: tokio::sync::Mutex<Option<Arc<View>>>,
}

/// One WebSocket client's place; dropping it frees the place.
struct Slot<'h>(&'h AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        // Relaxed: a count compared against a limit; nothing else is published through it.
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Hub {
    /// Takes a place for a client if fewer than `max` are connected; a [`Slot`] gives it
    /// back.
    fn try_join(&self, max: usize) -> bool {
        // Relaxed: as above; the update is atomic, so the limit holds exactly.
        self.clients
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    /// The registry as of at most 1/60 s ago, gathered on a render thread.
    async fn view(&self, registry: &Registry) -> Option<Arc<View>> {
        let mut latest = self.latest.lock().await;
        if let Some(v) = latest.as_ref()
            && v.at
                .is_some_and(|at| at.elapsed() < Duration::from_millis(1000 / u64::from(MAX_FPS)))
        {
            return Some(Arc::clone(v));
        }
        let registry = registry.clone();
        let view = Arc::new(
            tokio::task::spawn_blocking(move || View::gather(&registry))
                .await
                .ok()?,
        );
        *latest = Some(Arc::clone(&view));
        Some(view)
    }
}

/// A histogram's figures in a frame.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct Hist {
    count: u64,
    sum: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    bands: Vec<u64>,
}

impl Hist {
    fn new(h: &HistogramSnapshot) -> Self {
        let summary = HistogramSummary::from(h);
        let mut bands = vec![0u64; BANDS.len() + 1];
        let per = h.resolution().per_base_unit();
        for (native, count) in h.recorded_values() {
            let value = native as f64 / per;
            // The first band whose bound is at or above the value; past the last, the last.
            let band = BANDS.partition_point(|&bound| bound < value);
            bands[band] += count;
        }
        Self {
            count: summary.count,
            sum: summary.sum,
            p50: summary.p50,
            p90: summary.p90,
            p99: summary.p99,
            max: summary.max,
            bands,
        }
    }
}

/// Every series' value at one moment, by series id.
#[derive(Default)]
struct View {
    at: Option<Instant>,
    t: f64,
    counters: BTreeMap<String, f64>,
    gauges: BTreeMap<String, f64>,
    histograms: BTreeMap<String, Hist>,
}

impl View {
    fn gather(registry: &Registry) -> Self {
        let mut view = Self {
            at: Some(Instant::now()),
            t: clock::unix_seconds(),
            ..Self::default()
        };
        for family in registry.gather() {
            for series in &family.series {
                let id = series_id(&family.name, &family.label_names, &series.labels);
                match &series.value {
                    SeriesValue::Counter { value, .. } | SeriesValue::SampledCounter { value } => {
                        view.counters.insert(id, *value);
                    }
                    SeriesValue::Gauge { value } => {
                        view.gauges.insert(id, *value);
                    }
                    SeriesValue::Histogram(h) | SeriesValue::Summary { snapshot: h, .. } => {
                        view.histograms.insert(id, Hist::new(h));
                    }
                }
            }
        }
        view
    }
}

/// The entries of `now` that are new or changed since `before`, and the ids of `before`
/// that are gone: one walk over both maps in key order.
fn diff<'a, V: PartialEq>(
    now: &'a BTreeMap<String, V>,
    before: Option<&'a BTreeMap<String, V>>,
    removed: &mut Vec<&'a str>,
) -> BTreeMap<&'a str, &'a V> {
    let Some(before) = before else {
        return now.iter().map(|(id, v)| (id.as_str(), v)).collect();
    };
    let mut changed = BTreeMap::new();
    let mut old = before.iter().peekable();
    for (id, v) in now {
        // Ids before this one in the old map are gone.
        while let Some((gone, _)) = old.next_if(|(o, _)| *o < id) {
            removed.push(gone.as_str());
        }
        match old.next_if(|(o, _)| *o == id) {
            Some((_, was)) if was == v => {}
            _ => {
                changed.insert(id.as_str(), v);
            }
        }
    }
    removed.extend(old.map(|(gone, _)| gone.as_str()));
    changed
}

#[derive(serde::Serialize)]
struct Frame<'a> {
    seq: u64,
    t: f64,
    fps: u32,
    full: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    bands: Option<&'a [f64]>,
    counters: BTreeMap<&'a str, &'a f64>,
    gauges: BTreeMap<&'a str, &'a f64>,
    histograms: BTreeMap<&'a str, &'a Hist>,
    removed: Vec<&'a str>,
}

fn frame_json(seq: u64, fps: u32, now: &View, before: Option<&View>) -> String {
    let mut removed = Vec::new();
    let counters = diff(&now.counters, before.map(|b| &b.counters), &mut removed);
    let gauges = diff(&now.gauges, before.map(|b| &b.gauges), &mut removed);
    let histograms = diff(&now.histograms, before.map(|b| &b.histograms), &mut removed);
    let frame = Frame {
        seq,
        t: now.t,
        fps,
        full: before.is_none(),
        bands: before.is_none().then_some(BANDS.as_slice()),
        counters,
        gauges,
        histograms,
        removed,
    };
    // Maps with string keys and plain numbers serialize infallibly (NaN becomes null).
    serde_json::to_string(&frame).unwrap_or_default()
}

/// A rate from a query value or a client message: `N` or `{"fps":N}`, 1 or more, served
/// at most at [`MAX_FPS`].
fn parse_fps(text: &str) -> Option<u32> {
    let text = text.trim();
    let n = if text.starts_with('{') {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()?
            .get("fps")?
            .as_u64()?
    } else {
        text.parse::<u64>().ok()?
    };
    (n >= 1).then(|| n.min(u64::from(MAX_FPS)) as u32)
}

fn period(fps: u32) -> Duration {
    Duration::from_secs(1) / fps
}

/// Answers the WebSocket handshake and starts the client's stream.
pub(crate) fn upgrade(state: &Arc<State>, mut req: Request<Incoming>) -> Response<Body> {
    let headers = req.headers();
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    let bad = |status, message: &str| {
        respond(
            status,
            "application/json",
            serde_json::json!({ "error": message }).to_string(),
        )
    };
    if !has_token(header::UPGRADE, "websocket") || !has_token(header::CONNECTION, "upgrade") {
        let mut r = bad(
            StatusCode::UPGRADE_REQUIRED,
            "/live is a WebSocket: send Upgrade: websocket",
        );
        r.headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        return r;
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return bad(StatusCode::BAD_REQUEST, "Sec-WebSocket-Key is missing");
    };
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        let mut r = bad(
            StatusCode::BAD_REQUEST,
            "only WebSocket version 13 is served",
        );
        r.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return r;
    }
    let fps = match query_values(req.uri().query(), "fps").next() {
        None => DEFAULT_FPS,
        Some(v) => match parse_fps(&v) {
            Some(fps) => fps,
            None => {
                return bad(
                    StatusCode::BAD_REQUEST,
                    "fps must be a whole number of frames per second from 1 to 60",
                );
            }
        },
    };
    let accept = derive_accept_key(key.as_bytes());
    if !state.live.try_join(state.opts.limits.max_live_clients) {
        return bad(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many live clients; retry later",
        );
    }
    // The place taken above is given back by the client task (or below, if it never runs).
    let on_upgrade = hyper::upgrade::on(&mut req);
    let state = Arc::clone(state);
    tokio::spawn(async move {
        let slot = Slot(&state.live.clients);
        if let Ok(upgraded) = on_upgrade.await {
            // Clients only ever send a rate: a small read buffer (tungstenite zeroes its read
            // buffer's spare room on every read, 128 KiB by default) and small messages.
            let config = WebSocketConfig::default()
                .read_buffer_size(4096)
                .max_message_size(Some(1024))
                .max_frame_size(Some(1024))
                .max_write_buffer_size(1 << 20);
            let ws = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(config),
            )
            .await;
            stream(&state, ws, fps).await;
        }
        drop(slot);
    });
    let mut r = respond(StatusCode::SWITCHING_PROTOCOLS, "text/plain", "");
    let h = r.headers_mut();
    h.remove(header::CONTENT_TYPE);
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    r
}

async fn stream<S>(state: &Arc<State>, ws: WebSocketStream<S>, mut fps: u32)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut incoming) = ws.split();
    let (queue, mut queued) = mpsc::channel::<Message>(state.opts.limits.live_queue_frames);
    // Writes on a task of their own, so that a client that does not read fills its queue
    // (and is dropped) instead of holding up the ticks.
    let writer = tokio::spawn(async move {
        while let Some(message) = queued.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
    });
    let mut ticker = tokio::time::interval(period(fps));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut stop = state.stop.clone();
    let mut last: Option<Arc<View>> = None;
    let mut seq = 0u64;
    let slow = loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = queue.try_send(Message::Close(Some(CloseFrame {
                    code: CloseCode::Away,
                    reason: "server stopping".into(),
                })));
                break false;
            }
            _ = ticker.tick() => {
                let Some(view) = state.live.view(&state.registry).await else {
                    break false;
                };
                let text = frame_json(seq, fps, &view, last.as_deref());
                match queue.try_send(Message::text(text)) {
                    Ok(()) => {
                        last = Some(view);
                        seq += 1;
                    }
                    Err(TrySendError::Full(_)) => break true,
                    Err(TrySendError::Closed(_)) => break false,
                }
            }
            message = incoming.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if let Some(asked) = parse_fps(&text) && asked != fps {
                        fps = asked;
                        ticker = tokio::time::interval(period(fps));
                        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
                    }
                }
                // Pings are answered by tungstenite; other messages mean nothing here.
                Some(Ok(Message::Close(_)) | Err(_)) | None => break false,
                Some(Ok(_)) => {}
            },
        }
    };
    drop(queue);
    if slow {
        writer.abort();
    } else {
        // Let a close frame go out; a client that does not read is cut off by the write
        // timeout in any case.
        let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fps_parses_numbers_and_objects_and_caps_at_60() {
        assert_eq!(parse_fps("30"), Some(30));
        assert_eq!(parse_fps(" {\"fps\": 5} "), Some(5));
        assert_eq!(parse_fps("600"), Some(60));
        assert_eq!(parse_fps("0"), None);
        assert_eq!(parse_fps("-1"), None);
        assert_eq!(parse_fps("fast"), None);
    }

    #[test]
    fn frames_carry_only_changes_after_the_first() {
        let mut a = View::default();
        a.counters.insert("x".into(), 1.0);
        a.counters.insert("y".into(), 2.0);
        a.gauges.insert("g".into(), 0.5);
        a.counters.insert("w".into(), 9.0);
        let mut b = View::default();
        b.counters.insert("v".into(), 4.0);
        b.counters.insert("x".into(), 1.0);
        b.counters.insert("y".into(), 3.0);
        let first: serde_json::Value = serde_json::from_str(&frame_json(0, 10, &a, None)).unwrap();
        assert_eq!(first["full"], true);
        assert_eq!(first["counters"]["x"], 1.0);
        assert_eq!(first["bands"].as_array().unwrap().len(), 33);
        let next: serde_json::Value =
            serde_json::from_str(&frame_json(1, 10, &b, Some(&a))).unwrap();
        assert_eq!(next["full"], false);
        assert_eq!(next["counters"], serde_json::json!({"v": 4.0, "y": 3.0}));
        assert_eq!(next["removed"], serde_json::json!(["w", "g"]));
        assert!(next.get("bands").is_none());
    }

    #[test]
    fn histogram_bands_place_values_by_bound() {
        let h = crate::Histogram::new("lat", &crate::HistogramOpts::latency()).unwrap();
        // 5e-4 s: above 10^-3.5, up to 10^-3.25, band 11.
        h.record_ms(0.5).unwrap();
        // 1 s is counted at its HDR bucket's lowest value, just below 1: band 24 (up to 10^0).
        h.record_ms(1000.0).unwrap();
        // 30 s: above 10^1.25, up to 10^1.5, band 30.
        h.record_ms(30_000.0).unwrap();
        let hist = Hist::new(&h.snapshot());
        assert_eq!(hist.count, 3);
        assert_eq!(hist.bands.len(), 34);
        assert_eq!(hist.bands[11], 1);
        assert_eq!(hist.bands[24], 1);
        assert_eq!(hist.bands[30], 1);
        assert_eq!(hist.bands.iter().sum::<u64>(), 3);
    }
}
