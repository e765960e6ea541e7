//! Prints one full resource sample as JSON; with `--exposition`, the Prometheus
//! text exposition of a registry after one sample.
//!
//! ```text
//! cargo run -p metricore --example sample [-- --exposition]
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = metricore::Registry::new();
    let sampler = registry.sampler()?;
    if std::env::args().any(|a| a == "--exposition") {
        sampler.sample_now();
        print!("{}", registry.render_text());
    } else {
        // Two samples a moment apart, so the rates and percentages are filled in.
        sampler.sample_now();
        std::thread::sleep(std::time::Duration::from_millis(250));
        let sample = sampler.sample_now();
        println!("{}", serde_json::to_string_pretty(&sample)?);
    }
    Ok(())
}
