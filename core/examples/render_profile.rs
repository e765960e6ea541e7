//! Renders the render bench's registry (10,000 labelled counter series) a number of times
//! in one dialect, for a profiler: `valgrind --tool=callgrind` counts the same
//! instructions run after run on a loaded machine, where wall-clock times move by tens of
//! percent.
//!
//! ```text
//! cargo build --release -p metricore --example render_profile
//! valgrind --tool=callgrind target/release/examples/render_profile prometheus_client 6
//! ```
//!
//! Arguments: the dialect (`canonical`, `prometheus_client` with `_created` lines, or
//! `prom-client`) and how many renders (default 6). The cost of one render is the
//! difference between runs with different counts divided by the difference in renders,
//! which takes the registry's construction out.

use std::hint::black_box;

use metricore::{Dialect, Format, MetricOpts, Registry};

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];

fn main() {
    let mut args = std::env::args().skip(1);
    let dialect = match args.next().as_deref() {
        Some("canonical") | None => Dialect::Canonical,
        Some("prometheus_client") => Dialect::PrometheusClient { created: true },
        Some("prom-client") => Dialect::PromClient,
        Some(other) => {
            eprintln!("unknown dialect {other:?}: canonical, prometheus_client or prom-client");
            std::process::exit(2);
        }
    };
    let renders: u32 = args
        .next()
        .map_or(6, |n| n.parse().expect("a number of renders"));
    let registry = Registry::new();
    let family = registry
        .counter_family(MetricOpts::new("http_requests", "Requests.").labels(["method", "path"]))
        .expect("valid family");
    for i in 0..10_000u64 {
        let path = format!("/api/v1/items/{i}");
        family
            .with_label_values(&[METHODS[i as usize % 4], path.as_str()])
            .expect("valid labels")
            .inc_by(i);
    }
    let start = std::time::Instant::now();
    for _ in 0..renders {
        black_box(registry.render_with(Format::Text, dialect));
    }
    eprintln!(
        "{renders} renders, {:?} each",
        start.elapsed() / renders.max(1)
    );
}
