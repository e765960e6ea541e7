//! Fuzzing name and label validation and the exposition encoders with hostile names, label
//! names, label values and help text (NUL, newlines, quotes, backslashes, any Unicode, empty,
//! reserved prefixes). Whatever the registry accepts must be a valid Prometheus name, and the
//! rendered text must parse line by line with every escape round-tripping to the original.
//! Case counts and seeds: `fuzz_support` and docs/fuzzing.md.

mod fuzz_support;

use metricore::{ErrorKind, Format, HistogramOpts, MetricOpts, Registry};
use proptest::prelude::*;

/// Strings a caller might pass anywhere a name, a label or help goes.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z_:][a-zA-Z0-9_:]{0,10}",
        2 => "(__)?[a-z_][a-z0-9_]{0,6}",
        2 => proptest::collection::vec(
            prop_oneof![
                Just('\\'), Just('"'), Just('\n'), Just('\r'), Just('\0'), Just(' '), Just('{'),
                Just('}'), Just('='), Just(','), Just('#'), Just('é'), Just('\u{2028}'),
                Just('\u{fffd}'), Just('\u{10ffff}'), Just('a'), Just('_'), Just('1'), Just(':'),
            ],
            0..12,
        )
        .prop_map(|cs| cs.into_iter().collect()),
        1 => any::<String>(),
        1 => Just(String::new()),
    ]
}

fn is_metric_name(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with("__")
}

/// Undoes the text format's escapes (`\\`, `\n`, and `\"` when `quoted`); `None` for an escape
/// the format does not have.
fn unescape(s: &str, quoted: bool) -> Option<String> {
    let mut out = String::new();
    let mut cs = s.chars();
    while let Some(c) = cs.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match cs.next()? {
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            '"' if quoted => out.push('"'),
            _ => return None,
        }
    }
    Some(out)
}

/// Parses `{k="v",...}` at the start of `s`; returns the pairs (unescaped) and the rest.
fn parse_labels(s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut rest = s.strip_prefix('{')?;
    let mut pairs = Vec::new();
    loop {
        if let Some(r) = rest.strip_prefix('}') {
            return Some((pairs, r));
        }
        let eq = rest.find("=\"")?;
        let name = &rest[..eq];
        let body = &rest[eq + 2..];
        // The value ends at the first quote not escaped.
        let mut end = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let end = end?;
        pairs.push((name.to_owned(), unescape(&body[..end], true)?));
        rest = &body[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

#[allow(
    clippy::too_many_lines,
    reason = "one case: register, record, then check every line of the exposition"
)]
fn check_case(
    kind: Kind,
    name: &str,
    help: &str,
    label_names: &[String],
    values: &[String],
) -> Result<(), TestCaseError> {
    let r = Registry::new();
    let opts = MetricOpts::new(name, help).labels(label_names.iter().cloned());
    let family_names: Result<(String, Vec<String>), metricore::Error> = match kind {
        Kind::Counter => r.counter_family(opts).and_then(|f| {
            f.with_label_values(values)?.inc_by(u64::MAX);
            Ok((f.name().to_owned(), f.label_names().to_vec()))
        }),
        Kind::Gauge => r.gauge_family(opts).and_then(|f| {
            f.with_label_values(values)?.set(f64::NAN);
            Ok((f.name().to_owned(), f.label_names().to_vec()))
        }),
        Kind::Histogram => r
            .histogram_family(opts, HistogramOpts::new())
            .and_then(|f| {
                let h = f.with_label_values(values)?;
                h.record(u64::MAX);
                let _ = h.observe(f64::INFINITY);
                Ok((f.name().to_owned(), f.label_names().to_vec()))
            }),
    };
    let (full_name, names) = match family_names {
        Ok(v) => v,
        Err(e) => {
            prop_assert!(
                matches!(
                    e.kind(),
                    ErrorKind::InvalidName | ErrorKind::InvalidLabels | ErrorKind::InvalidConfig
                ),
                "{e:?}"
            );
            prop_assert!(!e.rule().is_empty());
            return Ok(());
        }
    };
    prop_assert!(
        is_metric_name(&full_name),
        "accepted metric name {full_name:?}"
    );
    for n in &names {
        prop_assert!(is_label_name(n), "accepted label name {n:?}");
    }

    let text = r.render_text();
    let sample_name = match kind {
        Kind::Counter => format!("{full_name}_total"),
        _ => full_name.clone(),
    };
    let mut samples = 0;
    // Families the registry adds itself (a saturation counter) parse too, but are not ours.
    let mut ours = true;
    // The format's lines end at '\n' only: a '\r' in help or a label value is text.
    prop_assert!(text.ends_with('\n'), "{text:?}");
    for line in text[..text.len() - 1].split('\n') {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (n, h) = rest.split_once(' ').unwrap_or((rest, ""));
            prop_assert!(is_metric_name(n), "{line:?}");
            ours = n == sample_name;
            if !ours {
                continue;
            }
            let unescaped = unescape(h, false);
            prop_assert_eq!(unescaped.as_deref(), Some(help), "HELP line {:?}", line);
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let n = rest.split(' ').next().unwrap_or_default();
            prop_assert!(is_metric_name(n), "{line:?}");
            ours = n == sample_name;
        } else if !ours {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            prop_assert!(is_metric_name(&line[..end]), "{line:?}");
        } else {
            prop_assert!(!line.starts_with('#'), "unknown comment {line:?}");
            prop_assert!(
                line.starts_with(&full_name),
                "sample of another name: {line:?}"
            );
            let rest = line[full_name.len()..]
                .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
            let (pairs, value) = if rest.starts_with('{') {
                parse_labels(rest)
                    .ok_or_else(|| TestCaseError::fail(format!("labels do not parse: {line:?}")))?
            } else {
                (Vec::new(), rest)
            };
            let value = value
                .strip_prefix(' ')
                .ok_or_else(|| TestCaseError::fail(format!("no value: {line:?}")))?;
            prop_assert!(
                value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
                "value {value:?} in {line:?}"
            );
            let ours: Vec<(String, String)> =
                pairs.into_iter().filter(|(k, _)| k != "le").collect();
            let expected: Vec<(String, String)> =
                names.iter().cloned().zip(values.iter().cloned()).collect();
            prop_assert_eq!(ours, expected, "labels of {:?}", line);
            samples += 1;
        }
    }
    prop_assert!(samples > 0, "no sample in {text:?}");
    let om = String::from_utf8(r.render(Format::OpenMetrics))
        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert!(om.ends_with("# EOF\n"));
    prop_assert_eq!(om.matches("# EOF").count(), 1, "an injected EOF: {:?}", om);
    Ok(())
}

#[test]
fn fuzz_exposition_hostile_names_labels_and_help() {
    let kind = prop_oneof![
        Just(Kind::Counter),
        Just(Kind::Gauge),
        Just(Kind::Histogram)
    ];
    let case = (
        kind,
        hostile(),
        hostile(),
        proptest::collection::vec(hostile(), 0..3),
        proptest::collection::vec(hostile(), 3),
    );
    fuzz_support::runner("fuzz_exposition_hostile_names_labels_and_help", 1_500)
        .run(&case, |(kind, name, help, label_names, mut values)| {
            values.truncate(label_names.len());
            check_case(kind, &name, &help, &label_names, &values)
        })
        .unwrap();
}

/// Label values given by name: hostile names must be rejected, never matched loosely.
#[test]
fn fuzz_label_lookup_by_name() {
    let case = (
        proptest::collection::vec(hostile(), 1..3),
        proptest::collection::vec((hostile(), hostile()), 0..4),
    );
    fuzz_support::runner("fuzz_label_lookup_by_name", 1_500)
        .run(&case, |(names, given)| {
            let r = Registry::new();
            let Ok(f) =
                r.counter_family(MetricOpts::new("lookups", "L.").labels(names.iter().cloned()))
            else {
                return Ok(());
            };
            let pairs: Vec<(&str, &str)> = given
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            match f.with_labels(&pairs) {
                Ok(c) => {
                    // Accepted: exactly the family's names, each once.
                    let mut keys: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
                    keys.sort_unstable();
                    let mut want: Vec<&str> = f.label_names().iter().map(String::as_str).collect();
                    want.sort_unstable();
                    prop_assert_eq!(keys, want);
                    c.inc();
                }
                Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidLabels, "{:?}", e),
            }
            Ok(())
        })
        .unwrap();
}
