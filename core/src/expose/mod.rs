//! Exposition: Prometheus text 0.0.4, OpenMetrics 1.0.0 and JSON.
//!
//! A scrape turns [`Registry::gather`]'s snapshots into bytes. [`negotiate`]
//! picks the wire format from the scraper's `Accept` header,
//! [`encode`] writes it, and [`Registry::render_for_accept`] does both:
//!
//! ```
//! use metricore::{MetricOpts, Registry};
//!
//! let registry = Registry::new();
//! registry.counter(MetricOpts::new("jobs", "Jobs run."))?.inc();
//!
//! // What Prometheus sends: OpenMetrics preferred, 0.0.4 accepted.
//! let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
//! let (body, content_type) = registry.render_for_accept(Some(accept));
//! assert!(content_type.starts_with("application/openmetrics-text"));
//! assert!(body.ends_with(b"# EOF\n"));
//!
//! // A browser or curl gets the classic text format.
//! let (body, content_type) = registry.render_for_accept(Some("*/*"));
//! assert!(content_type.starts_with("text/plain"));
//! assert!(String::from_utf8(body).unwrap().contains("jobs_total 1\n"));
//! # Ok::<(), metricore::Error>(())
//! ```
//!
//! # Numbers
//!
//! - Counts (counter totals, bucket counts, `_count`) are integers: `1027`.
//! - Other values are floats with the shortest digits that round-trip, laid
//!   out as Go's `strconv.FormatFloat(f, 'g', -1, 64)`: `0.25`, `1e+06`,
//!   `1e-05`, `+Inf`, `-Inf`, `NaN`. In 0.0.4 an integral float prints as an
//!   integer (`3`), as Go's `expfmt` writes it; in OpenMetrics it gets `.0`
//!   (`3.0`), as `expfmt`'s OpenMetrics encoder and `prometheus_client` write it.
//! - `le` bounds use the OpenMetrics form in **both** formats (`0.005`, `1.0`,
//!   `10.0`, `+Inf`), as `prometheus_client` does. A bucket then has the same
//!   `le` label whichever format a scrape negotiates, and the same one
//!   Prometheus 3 normalises 0.0.4 bounds to; promtool and `prometheus_client`
//!   accept both spellings.
//! - `_created` and exemplar timestamps are Unix seconds as plain decimals
//!   (`1520430000.123`), as in the OpenMetrics specification's examples.
//!
//! The encoders write into one pre-sized `Vec<u8>`, with hand-rolled integer
//! and timestamp formatting and no allocation per series.
//!
//! # Dialects
//!
//! The rules above are metricore's own, [`Dialect::Canonical`]. The clients
//! users switch from spell the same metrics differently, and a [`Dialect`]
//! reproduces one of them byte for byte (the tests compare against the
//! clients themselves), so a service keeps its exposition when it switches:
//!
//! | | canonical | `prometheus_client` | prom-client |
//! |---|---|---|---|
//! | counter total, count | `17` | `17.0` | `17` |
//! | gauge 0.0.4 / OpenMetrics | `3` / `3.0` | `3.0` | `3` |
//! | large, small | `1e+06`, `1e-05` | `1e+06`, `1e-05` (`1234567.0` below 0) | `1000000`, `0.00001`, `1e+21`, `1e-7` |
//! | NaN | `NaN` | `NaN` | `Nan` |
//! | `le`, `quantile` | `1.0` | `1.0` | `1` |
//! | label order | label names', `le` last | sorted by name, `le` among them | `le` first, then label names' |
//! | 0.0.4 `_created` | none | a `…_created` gauge family after each family | none |
//! | OpenMetrics `_created`, UNIT | yes | yes (HELP before TYPE) | no |
//! | empty HELP | left out | `# HELP name ` | `# HELP name ` |
//! | histogram | `_sum`, `_count` (OpenMetrics: `_count`, `_sum`) | `_count`, `_sum` | `_sum`, `_count`; families apart by an empty line in 0.0.4 |
//!
//! `prometheus_client` writes floats with `floatToGoString` (Python's `repr`,
//! with Go's exponent form for positive values from 10^6 to below 10^16);
//! prom-client with JavaScript's `String(number)`. Both are produced from the
//! same shortest round-trip digits as the canonical form, laid out differently.

mod openmetrics;
mod prom_client;
mod prometheus_client;
mod samples;
mod text;
mod write;

pub use samples::{
    Sample, SampleExemplar, SampleFamily, SampleTime, encode_samples_prometheus_client,
};

use crate::registry::{FamilySnapshot, MetricKind, Registry, SeriesValue};

/// A wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0 text.
    OpenMetrics,
}

impl Format {
    /// The HTTP `Content-Type` for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Text => "text/plain; version=0.0.4; charset=utf-8",
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Whose spelling an encoder writes (see the [module documentation](self#dialects)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// metricore's own: integer counts, Go's float forms, nothing renamed.
    #[default]
    Canonical,
    /// Python's `prometheus_client` (0.26).
    PrometheusClient {
        /// Whether to write `_created` samples: `prometheus_client` does unless the
        /// environment variable `PROMETHEUS_DISABLE_CREATED_SERIES` is `true`, `1` or `t`
        /// (read when it is imported) or `disable_created_metrics()` was called.
        created: bool,
    },
    /// Node's prom-client (15).
    PromClient,
}

impl Dialect {
    /// `prometheus_client`'s dialect with `_created` samples as its environment asks:
    /// left out when `PROMETHEUS_DISABLE_CREATED_SERIES` is `true`, `1` or `t` (any case).
    pub fn prometheus_client_from_env() -> Self {
        let disabled = std::env::var("PROMETHEUS_DISABLE_CREATED_SERIES")
            .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "t"));
        Self::PrometheusClient { created: !disabled }
    }

    /// The HTTP `Content-Type` this dialect's client sends for `format` (all three send
    /// [`Format::content_type`]).
    pub fn content_type(self, format: Format) -> &'static str {
        format.content_type()
    }
}

/// How well one media range matched a format we can produce.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Match {
    /// 0 for `*/*`, 1 for `type/*`, 2 for `type/subtype`, 3 with a matching `version`.
    specificity: u8,
    /// The range's weight, 0..=1.
    q: f32,
    /// The range's index in the header.
    position: usize,
}

impl Match {
    /// Whether `self` should replace `old` as the range that applies to a format:
    /// the most specific range applies (RFC 9110, 12.5.1), the higher weight
    /// among equally specific ones.
    fn overrides(self, old: Option<Self>) -> bool {
        old.is_none_or(|o| (self.specificity, self.q) > (o.specificity, o.q))
    }
}

/// One format as a media type, for matching against `Accept` ranges.
struct Offer {
    kind: &'static str,
    subtype: &'static str,
    version: &'static str,
}

/// [`Format::Text`], then [`Format::OpenMetrics`].
const OFFERS: [Offer; 2] = [
    Offer {
        kind: "text",
        subtype: "plain",
        version: "0.0.4",
    },
    Offer {
        kind: "application",
        subtype: "openmetrics-text",
        version: "1.0.0",
    },
];

/// Picks the format for an HTTP `Accept` header.
///
/// The header is a comma-separated list of media ranges with optional
/// parameters, such as Prometheus' own:
/// `application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`.
/// Each format takes the weight (`q`, default 1) of the most specific range
/// that matches it: `application/openmetrics-text` without a `version` or with
/// `version=1.0.0`, `text/plain` without a `version` or with `version=0.0.4`,
/// then `application/*` or `text/*`, then `*/*`. A range asking for another
/// version does not match. OpenMetrics is chosen only when its weight is
/// above 0 and above the text format's; at equal weight the more specific
/// range wins, then the one listed first, so `*/*` alone gives text.
///
/// Everything else gives [`Format::Text`], the format every scraper reads: no
/// header, an empty or unparseable one, ranges with malformed weights
/// (ignored), or a header that accepts neither format (a scrape endpoint
/// answers anyway rather than with 406).
pub fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::Text;
    };
    let mut best: [Option<Match>; 2] = [None, None];
    for (position, range) in accept.split(',').enumerate() {
        let mut parts = range.split(';');
        let Some((kind, subtype)) = parts.next().and_then(|m| m.split_once('/')) else {
            continue;
        };
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() || (kind == "*" && subtype != "*") {
            continue;
        }
        let mut q = Some(1.0);
        let mut version = None;
        for param in parts {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim().trim_matches('"'));
            if key.eq_ignore_ascii_case("q") {
                q = parse_weight(value);
                break; // what follows `q` are accept extensions, not media type parameters
            }
            if key.eq_ignore_ascii_case("version") {
                version = Some(value);
            }
        }
        let Some(q) = q else { continue };
        for (offer, slot) in OFFERS.iter().zip(&mut best) {
            let specificity = if kind == "*" {
                0
            } else if !kind.eq_ignore_ascii_case(offer.kind) {
                continue;
            } else if subtype == "*" {
                1
            } else if !subtype.eq_ignore_ascii_case(offer.subtype) {
                continue;
            } else {
                match version {
                    None => 2,
                    Some(v) if v == offer.version => 3,
                    Some(_) => continue,
                }
            };
            let m = Match {
                specificity,
                q,
                position,
            };
            if m.overrides(*slot) {
                *slot = Some(m);
            }
        }
    }
    let [text, om] = best;
    let key = |m: Option<Match>| m.map(|m| (m.q, m.specificity, std::cmp::Reverse(m.position)));
    match om {
        Some(o) if o.q > 0.0 && key(om) > key(text) => Format::OpenMetrics,
        _ => Format::Text,
    }
}

/// Parses a `q` weight: a number from 0 to 1 (RFC 9110 allows up to three decimals).
fn parse_weight(text: &str) -> Option<f32> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let q: f32 = text.parse().ok()?;
    (0.0..=1.0).contains(&q).then_some(q)
}

/// A guess at the encoded size, on the generous side, so the output is
/// allocated once: each series' lines sized from the family's first series.
fn size_hint(families: &[FamilySnapshot], format: Format, dialect: Dialect) -> usize {
    // prometheus_client's `_created` samples are a line per series in either format.
    let om = format == Format::OpenMetrics
        || matches!(dialect, Dialect::PrometheusClient { created: true });
    let per_family = |f: &FamilySnapshot| {
        let label_names: usize = f.label_names.iter().map(|n| n.len() + 4).sum();
        let label_values: usize = f
            .series
            .first()
            .map_or(0, |s| s.labels.iter().map(str::len).sum());
        // Name, suffix, labels, a value; OpenMetrics timestamps and exemplars are longer.
        let line = f.name.len() + label_names + label_values * 5 / 4 + if om { 32 } else { 24 };
        let lines = match (&f.kind, f.series.first().map(|s| &s.value)) {
            (MetricKind::Counter, _) => 1 + usize::from(om),
            (MetricKind::Histogram, Some(SeriesValue::Histogram(h))) => {
                h.bounds().count() + 3 + usize::from(om)
            }
            (MetricKind::Summary, Some(SeriesValue::Summary { quantiles, .. })) => {
                quantiles.len() + 2 + usize::from(om)
            }
            _ => 1,
        };
        80 + 2 * f.name.len() + f.help.len() * 5 / 4 + f.series.len() * lines * line
    };
    families.iter().map(per_family).sum::<usize>() + 8
}

/// Encodes `families` in `format`.
///
/// Families come out in the order given, each series' samples together. A
/// family without series still gets its metadata (HELP, TYPE, and UNIT in
/// OpenMetrics); HELP is left out when the help text is empty. The OpenMetrics
/// output ends with `# EOF`. See the [module documentation](self) for how
/// numbers are written.
pub fn encode(families: &[FamilySnapshot], format: Format) -> Vec<u8> {
    encode_with(families, format, Dialect::Canonical)
}

/// Encodes `families` in `format`, spelled as `dialect` spells it. Families and series
/// come out in the order given; see the [module documentation](self#dialects).
///
/// To pin `_created` times (for a comparison with another client's output), set the
/// snapshots' [`created`](crate::registry::SeriesSnapshot::created) fields before encoding.
pub fn encode_with(families: &[FamilySnapshot], format: Format, dialect: Dialect) -> Vec<u8> {
    let om = format == Format::OpenMetrics;
    let mut out = Vec::with_capacity(size_hint(families, format, dialect));
    match (dialect, format) {
        (Dialect::Canonical, Format::Text) => text::encode_into(&mut out, families),
        (Dialect::Canonical, Format::OpenMetrics) => openmetrics::encode_into(&mut out, families),
        (Dialect::PrometheusClient { created }, _) => {
            prometheus_client::encode_into(&mut out, families, om, created);
        }
        (Dialect::PromClient, _) => prom_client::encode_into(&mut out, families, om),
    }
    out
}

/// Encodes `families` as a JSON array, one object per family, with the
/// fields of [`FamilySnapshot`]: `name`, `help`, `unit` (when set), `kind`
/// (`"counter"`, `"gauge"`, `"histogram"`), `label_names`, and `series`, each
/// with `labels` (values in label-name order), `created` and `value` — a
/// number for counters and gauges (non-finite gauges are `null`, as JSON has
/// no NaN or infinity), a counter's latest `exemplar` when there is one, and
/// for histograms an object with `count`, `sum`, `min`, `max`, `mean`,
/// `stddev`, `p50` … `p999` (base units), `saturated`, `resolution` and
/// `buckets` (`[le, cumulative count]` pairs).
///
/// # Panics
/// Never: every snapshot type serializes to JSON infallibly.
pub fn encode_json(families: &[FamilySnapshot]) -> Vec<u8> {
    serde_json::to_vec(families).expect("snapshots have string keys and serialize infallibly")
}

impl Registry {
    /// Collects every family and encodes it in `format`.
    pub fn render(&self, format: Format) -> Vec<u8> {
        encode(&self.gather(), format)
    }

    /// Collects every family and encodes it in `format`, spelled as `dialect` spells it.
    pub fn render_with(&self, format: Format, dialect: Dialect) -> Vec<u8> {
        encode_with(&self.gather(), format, dialect)
    }

    /// As [`Registry::render_for_accept`], spelled as `dialect` spells it.
    pub fn render_for_accept_with(
        &self,
        accept: Option<&str>,
        dialect: Dialect,
    ) -> (Vec<u8>, &'static str) {
        let format = negotiate(accept);
        (
            self.render_with(format, dialect),
            dialect.content_type(format),
        )
    }

    /// Collects every family as Prometheus text 0.0.4.
    pub fn render_text(&self) -> String {
        into_string(self.render(Format::Text))
    }

    /// Collects every family as OpenMetrics 1.0.0 text, ending with `# EOF`.
    pub fn render_openmetrics(&self) -> String {
        into_string(self.render(Format::OpenMetrics))
    }

    /// Serves a scrape: picks the format for the request's `Accept` header
    /// (see [`negotiate`]) and returns the body with its `Content-Type`.
    pub fn render_for_accept(&self, accept: Option<&str>) -> (Vec<u8>, &'static str) {
        let format = negotiate(accept);
        (self.render(format), format.content_type())
    }

    /// Collects every family as JSON (see [`encode_json`] for the shape).
    pub fn to_json(&self) -> String {
        into_string(encode_json(&self.gather()))
    }
}

/// The encoders only copy `&str` pieces and ASCII, so their output is UTF-8.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
