//! Prints a registry holding every kind of metric in the Prometheus text
//! format 0.0.4, or with `--openmetrics` in OpenMetrics 1.0.0.
//!
//! ```text
//! cargo run -p metricore --example exposition | promtool check metrics
//! cargo run -p metricore --example exposition -- --openmetrics > om.txt
//! ```
//!
//! The workload is pseudo-random but deterministic (a seeded xorshift), so
//! only the `_created` and exemplar timestamps change from run to run.

use std::io::Write as _;

use metricore::{Format, HistogramOpts, MetricOpts, Registry, Resolution};

/// Marsaglia's xorshift64: enough randomness for a demo, no dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `[0, 1)`, from the top 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let format = if std::env::args().skip(1).any(|a| a == "--openmetrics") {
        Format::OpenMetrics
    } else {
        Format::Text
    };

    let registry = Registry::new();
    let requests = registry.counter_family(
        MetricOpts::new(
            "http_requests",
            "HTTP requests served, by method and status code.",
        )
        .labels(["method", "code"]),
    )?;
    let in_flight = registry.gauge(MetricOpts::new(
        "http_requests_in_flight",
        "HTTP requests being served now.",
    ))?;
    let latency = registry.histogram_family(
        MetricOpts::new("http_request_duration", "Time to serve an HTTP request.")
            .unit("seconds")
            .labels(["method"]),
        HistogramOpts::new().buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
    )?;
    let queries = registry.histogram(
        MetricOpts::new(
            "db_query_duration_seconds",
            "Database query time (default buckets).",
        ),
        HistogramOpts::new(),
    )?;
    let sizes = registry.histogram(
        MetricOpts::new("http_response_size", "Size of HTTP response bodies.").unit("bytes"),
        HistogramOpts::new()
            .resolution(Resolution::Unit)
            .range(1, 1 << 30),
    )?;

    // Take the handles once; the loop below is the hot path.
    let methods = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
    let codes = ["200", "200", "200", "200", "201", "404", "500"];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for i in 0..5_000u32 {
        let method = methods[rng.below(methods.len() as u64) as usize];
        let code = codes[rng.below(codes.len() as u64) as usize];
        let counter = requests.with_label_values(&[method, code])?;
        // A log-uniform latency between 0.5 ms and 2 s, recorded in the TypeScript era's unit.
        let ms = 0.5 * 4000f64.powf(rng.unit());
        if i % 997 == 0 {
            let trace_id = format!("{:016x}", rng.next());
            counter.inc_by_with_exemplar(1, &[("trace_id", trace_id.as_str())])?;
            latency
                .with_label_values(&[method])?
                .observe_with_exemplar(ms / 1e3, &[("trace_id", trace_id.as_str())])?;
        } else {
            counter.inc();
            latency.with_label_values(&[method])?.record_ms(ms)?;
        }
        queries.record(50 + rng.below(20_000)); // microseconds
        sizes.record(1 << rng.below(24));
    }
    in_flight.set(f64::from(u32::try_from(rng.below(64))?));

    let body = registry.render(format);
    std::io::stdout().lock().write_all(&body)?;
    Ok(())
}
