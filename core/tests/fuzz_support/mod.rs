//! The proptest runner every `fuzz_*` target uses: a fixed seed and a modest number of cases
//! by default (each target a few seconds), or a long run selected by the environment:
//!
//! - `METRICORE_FUZZ_CASES=N`: N cases per target, still on the fixed seed;
//! - `METRICORE_FUZZ_LONG=1`: a million cases per target (unless `METRICORE_FUZZ_CASES` says
//!   otherwise) from a random seed, printed so that a failure can be replayed with
//!   `METRICORE_FUZZ_SEED=<hex>`.
//!
//! docs/fuzzing.md describes the targets.

use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// The runner for one target; `default_cases` is its CI case count.
pub fn runner(target: &str, default_cases: u32) -> TestRunner {
    let long = std::env::var("METRICORE_FUZZ_LONG").is_ok_and(|v| v == "1");
    let cases = std::env::var("METRICORE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if long { 1_000_000 } else { default_cases });
    let seed: [u8; 32] = match std::env::var("METRICORE_FUZZ_SEED") {
        Ok(hex) => parse_seed(&hex),
        Err(_) if long => {
            let mut seed = [0u8; 32];
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            seed[..16].copy_from_slice(&t.to_le_bytes());
            seed[16..20].copy_from_slice(&std::process::id().to_le_bytes());
            seed
        }
        Err(_) => [0x6d; 32],
    };
    let hex = seed.iter().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    });
    eprintln!("{target}: {cases} cases, METRICORE_FUZZ_SEED={hex}");
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed))
}

fn parse_seed(hex: &str) -> [u8; 32] {
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = hex
            .get(2 * i..2 * i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or_else(|| panic!("METRICORE_FUZZ_SEED must be 64 hex digits, not {hex:?}"));
    }
    seed
}
