//! Runs the cross-language golden cases in `tests/fixtures/*.json` (at the
//! repository root) against the core. The C, Python and Node test suites run
//! the same files through their bindings; `tests/fixtures/README.md` defines
//! the format, and this runner follows it to the letter: unknown keys, ops or
//! kinds are errors, so a typo in a fixture cannot silently test nothing.
//!
//! Every case of every file runs, and every failure is reported (naming the
//! file, the case and the op) before the test fails.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use metricore::registry::{Family, SeriesValue};
use metricore::{
    Counter, Error, ErrorKind, Gauge, Histogram, HistogramOpts, HistogramSnapshot, MetricOpts,
    Registry, Resolution,
};
use serde_json::{Map, Value};

type Res<T> = Result<T, String>;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// The `snake_case` spelling of an error kind used by every binding.
fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidName => "invalid_name",
        ErrorKind::InvalidLabels => "invalid_labels",
        ErrorKind::Conflict => "conflict",
        ErrorKind::InvalidValue => "invalid_value",
        ErrorKind::InvalidConfig => "invalid_config",
        ErrorKind::InvalidExemplar => "invalid_exemplar",
        ErrorKind::CorruptBlob => "corrupt_blob",
        _ => "unknown",
    }
}

// ------------------------------------------------------------ JSON helpers

/// Fails if `obj` has a key outside `allowed`.
fn only_keys(obj: &Map<String, Value>, allowed: &[&str], what: &str) -> Res<()> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "{what}: unknown key {k:?} (allowed: {})",
            allowed.join(", ")
        )),
        None => Ok(()),
    }
}

fn object<'a>(v: &'a Value, what: &str) -> Res<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| format!("{what} must be an object, not {v}"))
}

fn string<'a>(obj: &'a Map<String, Value>, key: &str) -> Res<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{key:?} must be a string"))
}

fn opt_string<'a>(obj: &'a Map<String, Value>, key: &str) -> Res<Option<&'a str>> {
    obj.get(key)
        .map(|v| {
            v.as_str()
                .ok_or_else(|| format!("{key:?} must be a string"))
        })
        .transpose()
}

fn strings(obj: &Map<String, Value>, key: &str) -> Res<Vec<String>> {
    match obj.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{key:?} must hold strings"))
            })
            .collect(),
        Some(v) => Err(format!("{key:?} must be an array of strings, not {v}")),
    }
}

fn uint(v: &Value, what: &str) -> Res<u64> {
    v.as_u64()
        .ok_or_else(|| format!("{what} must be a non-negative integer, not {v}"))
}

fn opt_uint(obj: &Map<String, Value>, key: &str) -> Res<Option<u64>> {
    obj.get(key).map(|v| uint(v, key)).transpose()
}

/// A float: a JSON number, or one of the strings "NaN", "+Inf", "-Inf".
fn float(v: &Value, what: &str) -> Res<f64> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("{what}: {n} is not a float")),
        Value::String(s) if s == "NaN" => Ok(f64::NAN),
        Value::String(s) if s == "+Inf" => Ok(f64::INFINITY),
        Value::String(s) if s == "-Inf" => Ok(f64::NEG_INFINITY),
        _ => Err(format!(
            "{what} must be a number or \"NaN\", \"+Inf\", \"-Inf\", not {v}"
        )),
    }
}

fn opt_float(obj: &Map<String, Value>, key: &str) -> Res<Option<f64>> {
    obj.get(key).map(|v| float(v, key)).transpose()
}

/// Floats agree when both are NaN, or equal, or within 1e-9 relative.
#[allow(
    clippy::float_cmp,
    reason = "equal infinities are close; the margin handles the rest"
)]
fn close(got: f64, want: f64) -> bool {
    (got.is_nan() && want.is_nan())
        || got == want
        || (got - want).abs() <= 1e-9 * got.abs().max(want.abs())
}

fn hex(s: &str) -> Res<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return Err(format!("hex blob has an odd length ({})", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("bad hex at {i}: {e}")))
        .collect()
}

// ------------------------------------------------------------ declarations

enum Fam {
    Counter(Family<Counter>),
    Gauge(Family<Gauge>),
    Histogram(Family<Histogram>),
}

impl Fam {
    fn name(&self) -> &str {
        match self {
            Self::Counter(f) => f.name(),
            Self::Gauge(f) => f.name(),
            Self::Histogram(f) => f.name(),
        }
    }
}

const DECL_KEYS: &[&str] = &[
    "kind",
    "name",
    "help",
    "labels",
    "unit",
    "cardinality_limit",
    "lowest",
    "highest",
    "significant_figures",
    "resolution",
    "buckets",
];

fn resolution(name: &str) -> Res<Resolution> {
    Ok(match name {
        "nanosecond" => Resolution::Nanosecond,
        "microsecond" => Resolution::Microsecond,
        "millisecond" => Resolution::Millisecond,
        "unit" => Resolution::Unit,
        other => return Err(format!("unknown resolution {other:?}")),
    })
}

fn histogram_opts(d: &Map<String, Value>) -> Res<HistogramOpts> {
    let mut h = HistogramOpts::latency();
    let lowest = opt_uint(d, "lowest")?.unwrap_or(1);
    let highest = opt_uint(d, "highest")?.unwrap_or(60_000_000);
    h = h.range(lowest, highest);
    if let Some(f) = opt_uint(d, "significant_figures")? {
        h = h.significant_figures(
            u8::try_from(f).map_err(|_| format!("significant_figures {f} is too large"))?,
        );
    }
    if let Some(r) = opt_string(d, "resolution")? {
        h = h.resolution(resolution(r)?);
    }
    if let Some(b) = d.get("buckets") {
        let bounds = b.as_array().ok_or("\"buckets\" must be an array")?;
        h = h.buckets(
            bounds
                .iter()
                .map(|v| float(v, "bucket bound"))
                .collect::<Res<Vec<f64>>>()?,
        );
    }
    Ok(h)
}

/// Registers a declaration; the outer error is a broken fixture, the inner one the library's answer.
fn register(registry: &Registry, decl: &Value) -> Res<(String, Result<Fam, Error>)> {
    let d = object(decl, "metric declaration")?;
    only_keys(d, DECL_KEYS, "metric declaration")?;
    let kind = string(d, "kind")?;
    let name = string(d, "name")?;
    let mut opts = MetricOpts::new(name, opt_string(d, "help")?.unwrap_or_default())
        .labels(strings(d, "labels")?);
    if let Some(u) = opt_string(d, "unit")? {
        opts = opts.unit(u);
    }
    if let Some(n) = opt_uint(d, "cardinality_limit")? {
        opts = opts.cardinality_limit(usize::try_from(n).map_err(|e| e.to_string())?);
    }
    let is_histogram_option = |k: &&String| {
        [
            "lowest",
            "highest",
            "significant_figures",
            "resolution",
            "buckets",
        ]
        .contains(&k.as_str())
    };
    if kind != "histogram"
        && let Some(k) = d.keys().find(is_histogram_option)
    {
        return Err(format!(
            "{k:?} is a histogram option, but {name:?} is a {kind}"
        ));
    }
    let fam = match kind {
        "counter" => registry.counter_family(opts).map(Fam::Counter),
        "gauge" => registry.gauge_family(opts).map(Fam::Gauge),
        "histogram" => registry
            .histogram_family(opts, histogram_opts(d)?)
            .map(Fam::Histogram),
        other => return Err(format!("unknown metric kind {other:?}")),
    };
    Ok((name.to_owned(), fam))
}

// ------------------------------------------------------------ ops

const OP_KEYS: &[&str] = &[
    "op",
    "metric",
    "labels",
    "value",
    "count",
    "error",
    "error_metric",
    "from",
    "from_labels",
    "blob_hex",
    "encoding",
    "into",
    "into_labels",
    "note",
];

struct Case {
    registry: Registry,
    metrics: HashMap<String, Fam>,
}

impl Case {
    fn family(&self, key: &str) -> Res<&Fam> {
        self.metrics
            .get(key)
            .ok_or_else(|| format!("no metric declared as {key:?}"))
    }

    fn histogram(&self, key: &str, labels: &[String]) -> Res<Result<Histogram, Error>> {
        match self.family(key)? {
            Fam::Histogram(f) => Ok(f.with_label_values(labels)),
            _ => Err(format!("{key:?} is not a histogram")),
        }
    }

    /// Runs one op; the outer error is a broken fixture, the inner one the library's answer.
    fn run(&mut self, op: &Map<String, Value>) -> Res<Result<(), Error>> {
        let name = string(op, "op")?;
        if name == "register" {
            let (key, fam) = register(
                &self.registry,
                op.get("metric").ok_or("register needs \"metric\"")?,
            )?;
            return Ok(fam.map(|f| {
                self.metrics.entry(key).or_insert(f);
            }));
        }
        let key = string(op, "metric")?;
        let labels = strings(op, "labels")?;
        let value = op.get("value");
        match (self.family(key)?, name) {
            (Fam::Counter(f), "inc") => {
                let n = value.map_or(Ok(1), |v| uint(v, "counter increment"))?;
                Ok(f.with_label_values(&labels).map(|c| c.inc_by(n)))
            }
            (Fam::Gauge(f), "inc" | "dec" | "set" | "add" | "sub") => {
                let x = value.map_or(Ok(1.0), |v| float(v, "gauge value"))?;
                if value.is_none() && !matches!(name, "inc" | "dec") {
                    return Err(format!("{name} needs a \"value\""));
                }
                Ok(f.with_label_values(&labels).map(|g| match name {
                    "inc" | "add" => g.add(x),
                    "dec" | "sub" => g.sub(x),
                    _ => g.set(x),
                }))
            }
            (Fam::Histogram(_), "record") => {
                let v = uint(value.ok_or("record needs a \"value\"")?, "recorded integer")?;
                let n = opt_uint(op, "count")?;
                Ok(self.histogram(key, &labels)?.map(|h| match n {
                    Some(n) => h.record_n(v, n),
                    None => h.record(v),
                }))
            }
            (Fam::Histogram(_), "observe" | "record_ms") => {
                let x = float(value.ok_or("needs a \"value\"")?, "value")?;
                Ok(self.histogram(key, &labels)?.and_then(|h| {
                    if name == "observe" {
                        h.observe(x)
                    } else {
                        h.record_ms(x)
                    }
                }))
            }
            (Fam::Histogram(_), "merge") => {
                let from = self.histogram(string(op, "from")?, &strings(op, "from_labels")?)?;
                let into = self.histogram(key, &labels)?;
                Ok(from.and_then(|from| into.and_then(|into| into.merge_from(&from.snapshot()))))
            }
            (Fam::Histogram(_), "merge_v2") => {
                let blob = hex(string(op, "blob_hex")?)?;
                Ok(self.histogram(key, &labels)?.and_then(|into| {
                    let decoded = HistogramSnapshot::decode_v2(&blob, into.resolution())?;
                    into.merge_from(&decoded)
                }))
            }
            (Fam::Histogram(_), "v2_round_trip") => {
                let deflate = match opt_string(op, "encoding")?.unwrap_or("plain") {
                    "plain" => false,
                    "deflate" => true,
                    other => return Err(format!("unknown encoding {other:?}")),
                };
                let into = self.histogram(string(op, "into")?, &strings(op, "into_labels")?)?;
                Ok(self.histogram(key, &labels)?.and_then(|from| {
                    let s = from.snapshot();
                    let blob = if deflate {
                        s.encode_v2_deflate().unwrap()
                    } else {
                        s.encode_v2().unwrap()
                    };
                    let decoded = HistogramSnapshot::decode_v2(&blob, from.resolution())?;
                    into?.merge_from(&decoded)
                }))
            }
            (_, other) => Err(format!("op {other:?} does not apply to {key:?}")),
        }
    }
}

/// Checks an op's outcome against its `error` / `error_metric` keys.
fn check_outcome(op: &Map<String, Value>, outcome: Result<(), Error>) -> Res<()> {
    let want = opt_string(op, "error")?;
    let want_metric = opt_string(op, "error_metric")?;
    match (outcome, want) {
        (Ok(()), None) => Ok(()),
        (Ok(()), Some(k)) => Err(format!("succeeded, but should fail with {k}")),
        (Err(e), None) => Err(format!(
            "failed unexpectedly: {} ({e})",
            kind_name(e.kind())
        )),
        (Err(e), Some(k)) => {
            if kind_name(e.kind()) != k {
                return Err(format!(
                    "failed with {} ({e}), but should fail with {k}",
                    kind_name(e.kind())
                ));
            }
            if let Some(m) = want_metric {
                let prefix = format!("metric '{m}': ");
                if e.metric() != Some(m) || !e.to_string().starts_with(&prefix) {
                    return Err(format!("the error should name metric {m:?}: {e}"));
                }
            }
            Ok(())
        }
    }
}

// ------------------------------------------------------------ expectations

const SERIES_KEYS: &[&str] = &[
    "metric",
    "family",
    "labels",
    "value",
    "count",
    "sum",
    "min",
    "max",
    "saturated",
    "quantiles",
    "buckets",
    "note",
];

fn check_histogram(s: &HistogramSnapshot, want: &Map<String, Value>) -> Res<Vec<String>> {
    if want.contains_key("value") {
        return Err(
            "a histogram series has count/sum/min/max/saturated/quantiles/buckets, not \"value\""
                .into(),
        );
    }
    let mut bad = Vec::new();
    for (key, got) in [
        ("count", s.count()),
        ("min", s.min()),
        ("max", s.max()),
        ("saturated", s.saturated()),
    ] {
        match opt_uint(want, key)? {
            Some(w) if w != got => bad.push(format!("{key}: got {got}, want {w}")),
            _ => {}
        }
    }
    match opt_float(want, "sum")? {
        Some(w) if !close(s.sum(), w) => bad.push(format!("sum: got {}, want {w}", s.sum())),
        _ => {}
    }
    if let Some(qs) = want.get("quantiles") {
        for q in qs.as_array().ok_or("\"quantiles\" must be an array")? {
            let q = object(q, "quantile")?;
            only_keys(q, &["q", "value"], "quantile")?;
            let qv = q
                .get("q")
                .and_then(Value::as_f64)
                .ok_or("a quantile needs \"q\": a number")?;
            let v = uint(
                q.get("value").unwrap_or(&Value::Null),
                "a quantile's \"value\"",
            )?;
            let got = s.value_at_quantile(qv);
            if got != v {
                bad.push(format!("quantile {qv}: got {got}, want {v}"));
            }
        }
    }
    if let Some(bs) = want.get("buckets") {
        let got: Vec<(f64, u64)> = s
            .buckets()
            .iter()
            .map(|b| (b.le, b.cumulative_count))
            .collect();
        let mut wanted = Vec::new();
        for b in bs.as_array().ok_or("\"buckets\" must be an array")? {
            let b = object(b, "bucket")?;
            only_keys(b, &["le", "count"], "bucket")?;
            wanted.push((
                float(b.get("le").unwrap_or(&Value::Null), "le")?,
                uint(
                    b.get("count").unwrap_or(&Value::Null),
                    "a bucket's \"count\"",
                )?,
            ));
        }
        if wanted.len() != got.len()
            || wanted
                .iter()
                .zip(&got)
                .any(|(w, g)| !close(g.0, w.0) || g.1 != w.1)
        {
            bad.push(format!(
                "buckets (le, cumulative count): got {got:?}, want {wanted:?}"
            ));
        }
    }
    Ok(bad)
}

/// Fails if a counter or gauge expectation uses histogram keys.
fn check_scalar_keys(want: &Map<String, Value>) -> Res<()> {
    only_keys(
        want,
        &["metric", "family", "labels", "value", "note"],
        "expected counter or gauge series",
    )
}

/// Checks `expect` against a collection of the registry (no lookups, so no side effects).
fn check_expect(case: &Case, expect: &Value) -> Res<Vec<String>> {
    let e = object(expect, "expect")?;
    only_keys(e, &["families", "series"], "expect")?;
    let gathered = case.registry.gather();
    let mut bad = Vec::new();
    if e.contains_key("families") {
        let want = strings(e, "families")?;
        let got: Vec<&str> = gathered.iter().map(|f| f.name.as_str()).collect();
        if got != want {
            bad.push(format!("families: got {got:?}, want {want:?}"));
        }
    }
    for want in e
        .get("series")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let w = object(want, "expected series")?;
        only_keys(w, SERIES_KEYS, "expected series")?;
        let name = match (opt_string(w, "metric")?, opt_string(w, "family")?) {
            (Some(key), None) => case.family(key)?.name().to_owned(),
            (None, Some(family)) => family.to_owned(),
            _ => return Err("an expected series names either \"metric\" (a declaration) or \"family\" (a gathered name)".into()),
        };
        let labels = strings(w, "labels")?;
        let what = format!("series {name}{labels:?}");
        let Some(series) = gathered
            .iter()
            .filter(|f| f.name == name)
            .flat_map(|f| &f.series)
            .find(|s| s.labels.iter().eq(labels.iter().map(String::as_str)))
        else {
            bad.push(format!("{what}: not collected"));
            continue;
        };
        let errs = match &series.value {
            SeriesValue::Counter { value, .. } => {
                check_scalar_keys(w)?;
                match opt_uint(w, "value")? {
                    // Whole totals below 2^53 in the cases: exact, so compared exactly.
                    #[allow(clippy::float_cmp, clippy::cast_precision_loss)]
                    Some(v) if v as f64 != *value => vec![format!("value: got {value}, want {v}")],
                    _ => vec![],
                }
            }
            SeriesValue::Gauge { value } => {
                check_scalar_keys(w)?;
                match opt_float(w, "value")? {
                    Some(v) if !close(*value, v) => vec![format!("value: got {value}, want {v}")],
                    _ => vec![],
                }
            }
            SeriesValue::Histogram(s) => check_histogram(s, w)?,
            other => vec![format!("fixtures record no {other:?}")],
        };
        bad.extend(errs.into_iter().map(|err| format!("{what}: {err}")));
    }
    Ok(bad)
}

// ------------------------------------------------------------ driver

/// Runs one case; returns its failures, each naming the op or expectation.
fn run_case(case: &Map<String, Value>) -> Res<Vec<String>> {
    only_keys(
        case,
        &["name", "description", "note", "metrics", "ops", "expect"],
        "case",
    )?;
    let mut c = Case {
        registry: Registry::new(),
        metrics: HashMap::new(),
    };
    for decl in case
        .get("metrics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (key, fam) = register(&c.registry, decl)?;
        let fam = fam.map_err(|e| format!("declaring {key:?} failed: {e}"))?;
        if c.metrics.insert(key.clone(), fam).is_some() {
            return Err(format!(
                "{key:?} is declared twice (use a \"register\" op to re-register)"
            ));
        }
    }
    let mut failures = Vec::new();
    for (i, op) in case
        .get("ops")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let o = object(op, "op")?;
        only_keys(o, OP_KEYS, "op")?;
        let outcome = c.run(o).map_err(|e| format!("op #{i} {op}: {e}"))?;
        if let Err(e) = check_outcome(o, outcome) {
            failures.push(format!("op #{i} {op}: {e}"));
        }
    }
    if let Some(expect) = case.get("expect") {
        failures.extend(
            check_expect(&c, expect)?
                .into_iter()
                .map(|e| format!("expect: {e}")),
        );
    }
    Ok(failures)
}

fn run_file(path: &Path, report: &mut String) -> Res<(usize, usize)> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let d = object(&doc, "file")?;
    only_keys(d, &["description", "cases"], "file")?;
    string(d, "description")?;
    let cases = d
        .get("cases")
        .and_then(Value::as_array)
        .ok_or("\"cases\" must be an array")?;
    let file = path.file_name().unwrap_or_default().to_string_lossy();
    let (mut passed, mut failed) = (0, 0);
    let mut names = std::collections::HashSet::new();
    for case in cases {
        let c = object(case, "case")?;
        let name = string(c, "name")?;
        if !names.insert(name) {
            return Err(format!("case name {name:?} appears twice"));
        }
        match run_case(c) {
            Ok(f) if f.is_empty() => passed += 1,
            Ok(f) => {
                failed += 1;
                for msg in f {
                    let _ = writeln!(report, "{file} :: {name} :: {msg}");
                }
            }
            Err(broken) => {
                failed += 1;
                let _ = writeln!(report, "{file} :: {name} :: broken fixture: {broken}");
            }
        }
    }
    Ok((passed, failed))
}

#[test]
fn golden_fixtures() {
    let dir = fixtures_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let mut report = String::new();
    let (mut passed, mut failed) = (0, 0);
    for path in &files {
        match run_file(path, &mut report) {
            Ok((p, f)) => {
                passed += p;
                failed += f;
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(report, "{} :: broken fixture file: {e}", path.display());
            }
        }
    }
    eprintln!(
        "fixtures: {} files, {passed} cases passed, {failed} failed",
        files.len()
    );
    assert!(
        report.is_empty(),
        "{failed} fixture case(s) failed:\n{report}"
    );
}
