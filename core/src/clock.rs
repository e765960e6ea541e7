//! Time sources. Windows and meters read a *coarse* monotonic clock on the
//! record path: on Linux `CLOCK_MONOTONIC_COARSE` costs a few nanoseconds
//! (no hardware counter read) at millisecond-ish resolution, which is all a
//! window measured in seconds needs.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds on a monotonic clock with an arbitrary origin.
#[inline]
pub(crate) fn coarse_monotonic_ms() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &raw mut ts) };
        if rc == 0 {
            return ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000;
        }
    }
    fallback_monotonic_ms()
}

fn fallback_monotonic_ms() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Seconds since the Unix epoch, as Prometheus timestamps and `_created` are.
pub(crate) fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    #[test]
    fn coarse_clock_is_monotonic_and_moves() {
        let a = super::coarse_monotonic_ms();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let b = super::coarse_monotonic_ms();
        assert!(b >= a + 20, "{a} -> {b}");
    }
}
