//! The byte-level writers both text encoders share: integers, floats in the
//! forms the Go client (`expfmt`) writes, timestamps, escaping and label sets.
//!
//! Everything appends to one `Vec<u8>`; nothing here allocates apart from
//! that vector growing. Floats get their shortest round-trip digits from
//! `core::fmt` (`{:e}`), written into a stack buffer and then laid out the
//! way Go's `strconv.FormatFloat(f, 'g', -1, 64)` does.

use std::fmt::Write as _;

use crate::labels::LabelValues;

/// `"00"`, `"01"`, … `"99"`: two digits per division, as `itoa` does.
const DIGIT_PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Appends `n` in decimal.
#[inline]
pub(super) fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20]; // u64::MAX has 20 digits
    let mut i = buf.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends a counter total: as an integer while it is whole (`1027`, also
/// past 10^6), otherwise as [`write_f64`] writes it (`0.5`, `1e+300`).
#[inline]
pub(super) fn write_total(out: &mut Vec<u8>, total: f64, openmetrics: bool) {
    // Whole and below 2^64 (NaN fails the comparison): the round trip is exact.
    #[allow(clippy::float_cmp, clippy::cast_precision_loss)]
    if (0.0..u64::MAX as f64).contains(&total) && (total as u64) as f64 == total {
        write_u64(out, total as u64);
    } else {
        write_f64(out, total, openmetrics);
    }
}

/// A fixed buffer that `core::fmt` can write into without allocating.
struct StackBuf {
    buf: [u8; 40],
    len: usize,
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Integral values below this print as integers in Go's `'g'` form (it switches
/// to an exponent at 10^6).
const GO_EXPONENT_FROM: f64 = 1e6;

/// Appends `f` as Go's `strconv.FormatFloat(f, 'g', -1, 64)` does (what
/// `expfmt` writes in the 0.0.4 text format): shortest round-trip digits,
/// fixed notation for decimal exponents -4..=5 and `d.ddde±XX` otherwise, so
/// `1`, `0.005`, `123456`, `1e+06`, `1e-05`. Non-finite values are `+Inf`,
/// `-Inf` and `NaN`.
///
/// With `openmetrics`, a result without `.` or `e` gets `.0` appended and zero
/// is `0.0`, as `expfmt`'s `writeOpenMetricsFloat` and `prometheus_client`'s
/// `floatToGoString` do: `1.0`, `0.005`, `123456.0`, `1e+06`.
pub(super) fn write_f64(out: &mut Vec<u8>, f: f64, openmetrics: bool) {
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    if openmetrics && f == 0.0 {
        out.extend_from_slice(b"0.0");
        return;
    }
    // Integral test by round trip, not `fract()`: that is a libm call on baseline x86-64.
    #[allow(clippy::float_cmp)]
    if f.abs() < GO_EXPONENT_FROM && (f as i64) as f64 == f {
        // Fast path for the common integral value: no digit generation needed.
        if f.is_sign_negative() {
            out.push(b'-');
        }
        // Integral and below 10^6, so the cast is exact.
        write_u64(out, f.abs() as u64);
        if openmetrics {
            out.extend_from_slice(b".0");
        }
        return;
    }
    // `{:e}` gives the shortest digits that round-trip: "-1.2345e-5", "5e-3", "1e6".
    let mut sci = StackBuf {
        buf: [0; 40],
        len: 0,
    };
    if write!(sci, "{f:e}").is_err() {
        // Unreachable: the longest f64 in `{:e}` form has 24 bytes.
        let _ = write!(VecWriter(out), "{f}");
        return;
    }
    let sci = &sci.buf[..sci.len];
    let (negative, sci) = match sci.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, sci),
    };
    let e_at = sci.iter().position(|&b| b == b'e').unwrap_or(sci.len());
    let (mantissa, exp_text) = sci.split_at(e_at);
    let exp = parse_exponent(exp_text.get(1..).unwrap_or_default());
    // The significant digits, without the decimal point.
    let mut digits = [0u8; 20];
    let mut nd = 0;
    for &b in mantissa.iter().filter(|b| b.is_ascii_digit()) {
        digits[nd] = b;
        nd += 1;
    }
    let digits = &digits[..nd];
    if negative {
        out.push(b'-');
    }
    if !(-4..6).contains(&exp) {
        // d[.ddd]e±XX, at least two exponent digits (Go's %e).
        out.push(digits[0]);
        if nd > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = u64::from(exp.unsigned_abs());
        if e < 10 {
            out.push(b'0');
        }
        write_u64(out, e);
    } else if exp < 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    } else {
        let int_len = exp as usize + 1;
        if nd > int_len {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        } else {
            // Integral (the fast path catches most of these).
            out.extend_from_slice(digits);
            for _ in nd..int_len {
                out.push(b'0');
            }
            if openmetrics {
                out.extend_from_slice(b".0");
            }
        }
    }
}

/// The shortest round-trip decimal digits of a finite, non-zero `f`: `digits` (no
/// point, no trailing zeros) times 10^(`exp` - `digits.len()` + 1).
struct Shortest {
    negative: bool,
    buf: [u8; 20],
    len: usize,
    exp: i32,
}

impl Shortest {
    fn of(f: f64) -> Self {
        // `{:e}` gives the shortest digits that round-trip: "-1.2345e-5", "5e-3", "1e6".
        let mut sci = StackBuf {
            buf: [0; 40],
            len: 0,
        };
        // The longest f64 in `{:e}` form has 24 bytes: this cannot fail.
        let _ = write!(sci, "{f:e}");
        let sci = &sci.buf[..sci.len];
        let (negative, sci) = match sci.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, sci),
        };
        let e_at = sci.iter().position(|&b| b == b'e').unwrap_or(sci.len());
        let (mantissa, exp_text) = sci.split_at(e_at);
        let mut out = Self {
            negative,
            buf: [0; 20],
            len: 0,
            exp: parse_exponent(exp_text.get(1..).unwrap_or_default()),
        };
        for &b in mantissa.iter().filter(|b| b.is_ascii_digit()) {
            out.buf[out.len] = b;
            out.len += 1;
        }
        out
    }

    /// The shortest digits of a positive value below 2^53 from [`timestamp_parts`]
    /// (several times faster than [`Shortest::of`]); `None` where that gives none.
    fn from_timestamp(f: f64) -> Option<Self> {
        let (int, frac, decimals) = timestamp_parts(f)?;
        let mut out = Self {
            negative: false,
            buf: [0; 20],
            len: 0,
            exp: 0,
        };
        let frac_len = decimal_len(frac);
        // `width` digits of `n`, zero-padded, filled from the last (constant divisors).
        let push = |out: &mut Self, mut n: u64, width: u32| {
            let start = out.len;
            out.len += width as usize;
            let mut end = out.len;
            while end >= start + 2 {
                let pair = (n % 100) as usize * 2;
                n /= 100;
                out.buf[end - 2..end].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
                end -= 2;
            }
            if end > start {
                out.buf[start] = b'0' + (n % 10) as u8;
            }
        };
        if int > 0 {
            let int_len = decimal_len(int);
            if int_len + decimals > 17 {
                return None; // more digits than an f64's shortest form has: not ours to judge
            }
            push(&mut out, int, int_len);
            if decimals > 0 {
                push(&mut out, frac, decimals);
            }
            #[allow(clippy::cast_possible_wrap)] // at most 17
            {
                out.exp = int_len as i32 - 1;
            }
            while out.len > 1 && out.buf[out.len - 1] == b'0' {
                out.len -= 1;
            }
        } else {
            // A fraction only: its leading zeros set the exponent.
            push(&mut out, frac, frac_len);
            #[allow(clippy::cast_possible_wrap)] // at most 9
            {
                out.exp = -((decimals - frac_len) as i32) - 1;
            }
        }
        Some(out)
    }

    #[cfg(test)]
    /// From a positive value's plain decimal with its shortest digits (`1700000000.25`,
    /// `0.00001`), as [`write_timestamp`] writes it.
    fn from_plain(text: &[u8]) -> Self {
        let mut out = Self {
            negative: false,
            buf: [0; 20],
            len: 0,
            exp: 0,
        };
        let point = text.iter().position(|&b| b == b'.').unwrap_or(text.len());
        #[allow(clippy::cast_possible_wrap)] // at most 17 digits before the point
        let mut exp = point as i32 - 1;
        for &b in text.iter().filter(|&&b| b != b'.') {
            if out.len == 0 && b == b'0' {
                exp -= 1; // a leading zero: the first significant digit comes later
                continue;
            }
            out.buf[out.len] = b;
            out.len += 1;
        }
        while out.len > 1 && out.buf[out.len - 1] == b'0' {
            out.len -= 1;
        }
        out.exp = exp;
        out
    }

    fn digits(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Appends the digits in fixed notation (`0.00123`, `12.5`, `1200`), no sign.
    fn write_fixed(&self, out: &mut Vec<u8>) {
        let digits = self.digits();
        if self.exp < 0 {
            out.extend_from_slice(b"0.");
            for _ in 0..(-self.exp - 1) {
                out.push(b'0');
            }
            out.extend_from_slice(digits);
            return;
        }
        let int_len = self.exp as usize + 1;
        if digits.len() > int_len {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        } else {
            out.extend_from_slice(digits);
            for _ in digits.len()..int_len {
                out.push(b'0');
            }
        }
    }

    /// Appends `d[.ddd]e±X`, the exponent with at least `min_exp_digits` digits, no sign.
    fn write_exponential(&self, out: &mut Vec<u8>, min_exp_digits: usize) {
        let digits = self.digits();
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if self.exp < 0 { b'-' } else { b'+' });
        let e = u64::from(self.exp.unsigned_abs());
        if min_exp_digits == 2 && e < 10 {
            out.push(b'0');
        }
        write_u64(out, e);
    }

    fn is_integral(&self) -> bool {
        self.exp >= 0 && self.len <= self.exp as usize + 1
    }
}

/// Appends `f` as prometheus_client's `floatToGoString` writes it: Python's `repr`
/// (shortest round-trip digits; fixed notation with at least one decimal, `17.0`,
/// for decimal exponents -4..=15, else `1e-05`, `1e+16`), except that a positive
/// value with exponent 6..=15 takes Go's form, `1.5e+06`; `+Inf`, `-Inf`, `NaN`.
pub(super) fn write_f64_python(out: &mut Vec<u8>, f: f64) {
    write_python(out, f, true);
}

/// Appends `f` as Python's `repr` writes it (see [`write_f64_python`], without Go's
/// exponent form): `1700000000.25`, `17.0`, `1e-05`, `1e+16`.
pub(super) fn write_repr_python(out: &mut Vec<u8>, f: f64) {
    write_python(out, f, false);
}

fn write_python(out: &mut Vec<u8>, f: f64, go_exponent: bool) {
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    if f == 0.0 {
        out.extend_from_slice(if f.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
        return;
    }
    // Integral test by round trip, not `fract()`: that is a libm call on baseline x86-64.
    #[allow(clippy::float_cmp)]
    if f.abs() < GO_EXPONENT_FROM && (f as i64) as f64 == f {
        if f < 0.0 {
            out.push(b'-');
        }
        write_u64(out, f.abs() as u64); // integral and below 10^6: exact
        out.extend_from_slice(b".0");
        return;
    }
    // Positive values below 2^53 (creation times above all) get their digits from the
    // timestamp writer, several times faster than `core::fmt`'s.
    if go_exponent && (1e6..1e16).contains(&f) && write_go_exponent_fast(out, f) {
        return;
    }
    let d = if f > 0.0 {
        Shortest::from_timestamp(f).unwrap_or_else(|| Shortest::of(f))
    } else {
        Shortest::of(f)
    };
    if d.negative {
        out.push(b'-');
    }
    if go_exponent && !d.negative && (6..=15).contains(&d.exp) || !(-4..16).contains(&d.exp) {
        d.write_exponential(out, 2);
    } else {
        d.write_fixed(out);
        if d.is_integral() {
            out.extend_from_slice(b".0");
        }
    }
}

/// Appends `f` as JavaScript's `String(number)` writes it, which is what prom-client
/// prints: shortest round-trip digits, fixed notation for decimal exponents -6..=20
/// (`17`, `0.000001`, `123456789`), else `1e+21`, `1.5e-7`; `+Inf`, `-Inf`, and
/// prom-client's spelling of NaN, `Nan`.
pub(super) fn write_f64_js(out: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        out.extend_from_slice(b"Nan");
        return;
    }
    if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    if f == 0.0 {
        out.push(b'0'); // JavaScript prints -0 as 0
        return;
    }
    // Below 2^53 an integral value's shortest digits are the integer's own.
    #[allow(clippy::float_cmp)]
    if f.abs() < 9_007_199_254_740_992.0 && (f as i64) as f64 == f {
        if f < 0.0 {
            out.push(b'-');
        }
        write_u64(out, f.abs() as u64);
        return;
    }
    let d = Shortest::of(f);
    if d.negative {
        out.push(b'-');
    }
    if (-6..21).contains(&d.exp) {
        d.write_fixed(out);
    } else {
        d.write_exponential(out, 1);
    }
}

fn parse_exponent(text: &[u8]) -> i32 {
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let magnitude = text
        .iter()
        .fold(0i32, |acc, &b| acc * 10 + i32::from(b - b'0'));
    if negative { -magnitude } else { magnitude }
}

/// `io::Write`-free adapter so `write!` can target the output vector.
struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Appends a Unix timestamp in seconds as a plain decimal with the shortest
/// digits that round-trip (`1520430000.123`), the form the OpenMetrics
/// specification's examples use for `_created` and exemplar timestamps.
pub(super) fn write_timestamp(out: &mut Vec<u8>, secs: f64) {
    if !write_timestamp_fast(out, secs) {
        if secs.is_finite() {
            // Rust's `Display` for f64 is shortest round-trip and never uses an exponent.
            let _ = write!(VecWriter(out), "{secs}");
        } else {
            write_f64(out, secs, true);
        }
    }
}

/// [`write_timestamp`] without the general float formatter, for non-negative
/// values below 2^53. The shortest decimal that reads back as `secs` is the
/// one with the fewest decimals lying strictly within half an ulp of it; that
/// is what `Display` prints, and this finds it at a fraction of the cost.
/// Returns false (writing nothing) when the value is out of range, needs more
/// than 9 decimals, or a candidate is too near the rounding boundary to decide
/// in floating point.
fn write_timestamp_fast(out: &mut Vec<u8>, secs: f64) -> bool {
    let Some((int, frac, decimals)) = timestamp_parts(secs) else {
        return false;
    };
    write_u64(out, int);
    if decimals > 0 {
        out.push(b'.');
        for _ in decimal_len(frac)..decimals {
            out.push(b'0');
        }
        write_u64(out, frac);
    }
    true
}

/// Writes `f` (in 1e6..1e16: creation times above all) in Go's exponent form with its
/// shortest digits (`1.7000000002534e+09`) straight from [`timestamp_parts`], in one
/// append; false (writing nothing) where those give no answer.
fn write_go_exponent_fast(out: &mut Vec<u8>, f: f64) -> bool {
    let Some((int, frac, decimals)) = timestamp_parts(f) else {
        return false;
    };
    let int_len = decimal_len(int);
    if !(7..=16).contains(&int_len) || int_len + decimals > 17 {
        return false;
    }
    // All significant digits: the integer part, then the fraction zero-padded to its width.
    let mut digits = [0u8; 17];
    let len = (int_len + decimals) as usize;
    let (mut n, mut at) = (frac, len);
    for _ in 0..decimals {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    n = int;
    while at > 0 {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let mut last = len;
    while last > 1 && digits[last - 1] == b'0' {
        last -= 1;
    }
    // d[.ddd]e+XX: at most 17 digits, a point, and four for the exponent.
    let mut text = [0u8; 22];
    text[0] = digits[0];
    let mut end = 1;
    if last > 1 {
        text[1] = b'.';
        text[2..=last].copy_from_slice(&digits[1..last]);
        end = last + 1;
    }
    let exp = (int_len - 1) as usize;
    text[end..end + 2].copy_from_slice(b"e+");
    text[end + 2..end + 4].copy_from_slice(&DIGIT_PAIRS[exp * 2..exp * 2 + 2]);
    out.extend_from_slice(&text[..end + 4]);
    true
}

/// 10^i for every `i` a `u64` holds.
const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// How many decimal digits `n` has (1 for 0).
fn decimal_len(n: u64) -> u32 {
    POW10[1..].iter().take_while(|&&p| n >= p).count() as u32 + 1
}

/// The parts of [`write_timestamp_fast`]'s decimal: the integer part, the digits after
/// the point (without trailing zeros) and how many there are, or `None` where it writes
/// nothing.
fn timestamp_parts(secs: f64) -> Option<(u64, u64, u32)> {
    const MAX_DECIMALS: u32 = 9;
    if !(0.0..9_007_199_254_740_992.0).contains(&secs) {
        return None;
    }
    let int = secs.trunc();
    let frac = secs - int; // exact
    // The closer neighbour bounds the interval that rounds to `secs`.
    let up = f64::from_bits(secs.to_bits() + 1) - secs;
    let down = if secs > 0.0 {
        secs - f64::from_bits(secs.to_bits() - 1)
    } else {
        up
    };
    let half = up.min(down) / 2.0;
    // Start at the most decimals whose step (10^-d) still exceeds the interval's width:
    // at most one such decimal fits in the interval, so a shorter one that fits is this
    // one with trailing zeros, and if this one misses, every shorter one does.
    let (mut decimals, mut scale) = (0, 1.0);
    while decimals < MAX_DECIMALS && scale * 10.0 * 2.0 * half < 1.0 {
        decimals += 1;
        scale *= 10.0;
    }
    loop {
        // Non-negative and below 10^9 + 1: the cast rounds half up, exactly enough here.
        let digits = (frac * scale + 0.5) as u64;
        let miss = (digits as f64 / scale - frac).abs();
        // The error in `miss` is ~1e-16 absolute; leave a wide margin either side.
        if (miss - half).abs() <= half * 1e-6 {
            return None;
        }
        if miss < half {
            let (mut int, mut digits) = (int as u64, digits); // below 2^53: exact
            if digits == POW10[decimals as usize] {
                int += 1;
                digits = 0;
            }
            while decimals > 0 && digits % 10 == 0 {
                digits /= 10;
                decimals -= 1;
            }
            return Some((int, digits, decimals));
        }
        if decimals == MAX_DECIMALS {
            return None;
        }
        decimals += 1;
        scale *= 10.0;
    }
}

/// Appends `s`, escaping `\` as `\\` and a newline as `\n`, and also `"` as
/// `\"` when `quote` is set (label values everywhere; HELP in OpenMetrics).
#[inline]
pub(super) fn write_escaped(out: &mut Vec<u8>, s: &str, quote: bool) {
    let bytes = s.as_bytes();
    let special = |b: u8| b == b'\\' || b == b'\n' || (quote && b == b'"');
    // A full scan without early exit, which the compiler vectorises; values are short.
    if !bytes.iter().fold(false, |found, &b| found | special(b)) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if special(b) {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(match b {
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                _ => b"\\\"",
            });
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `name="value",…` for a series (no braces), values escaped.
pub(super) fn write_label_pairs(out: &mut Vec<u8>, names: &[String], values: &LabelValues) {
    for (i, (name, value)) in names.iter().zip(values.iter()).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        write_escaped(out, value, true);
        out.push(b'"');
    }
}

/// Appends `name="value",…` for free-standing pairs (an exemplar's, a collected sample's),
/// sorted by name as prometheus_client writes them; no braces.
pub(super) fn write_sorted_pairs(out: &mut Vec<u8>, pairs: &[(String, String)]) {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (name, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        write_escaped(out, value, true);
        out.push(b'"');
    }
}

/// A label added after a series' own: a bucket's `le` or a summary's `quantile`, with
/// its value already formatted.
pub(super) type Extra<'a> = Option<(&'static str, &'a [u8])>;

/// Appends `{pairs}`, `{pairs,le="…"}`, `{le="…"}` or nothing, where `pairs`
/// was prepared by [`write_label_pairs`] and `extra` is a formatted bound or quantile.
#[inline]
pub(super) fn write_label_set(out: &mut Vec<u8>, pairs: &[u8], extra: Extra<'_>) {
    if pairs.is_empty() && extra.is_none() {
        return;
    }
    out.push(b'{');
    out.extend_from_slice(pairs);
    if let Some((label, value)) = extra {
        if !pairs.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(label.as_bytes());
        out.extend_from_slice(b"=\"");
        out.extend_from_slice(value);
        out.push(b'"');
    }
    out.push(b'}');
}

/// Appends a sample line's start: `name` `suffix` and its label set.
#[inline]
pub(super) fn write_sample_start(
    out: &mut Vec<u8>,
    name: &str,
    suffix: &str,
    pairs: &[u8],
    extra: Extra<'_>,
) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    write_label_set(out, pairs, extra);
    out.push(b' ');
}

/// Appends a one-line series' start, `name` `suffix` `{labels} `, writing the
/// labels straight from `values` (no scratch copy).
#[inline]
pub(super) fn write_series_start(
    out: &mut Vec<u8>,
    name: &str,
    suffix: &str,
    names: &[String],
    values: &LabelValues,
) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    if !names.is_empty() {
        out.push(b'{');
        write_label_pairs(out, names, values);
        out.push(b'}');
    }
    out.push(b' ');
}

/// Formatted `le` bounds, kept from one series to the next: the series of a
/// family almost always share their bounds, so each is formatted once.
#[derive(Default)]
pub(super) struct LeCache {
    bits: Vec<u64>,
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl LeCache {
    /// Makes the cache hold `bounds` (formatted in the OpenMetrics canonical form).
    pub(super) fn load(&mut self, bounds: impl ExactSizeIterator<Item = f64> + Clone) {
        let same = self.bits.len() == bounds.len()
            && bounds
                .clone()
                .zip(&self.bits)
                .all(|(b, &bits)| b.to_bits() == bits);
        if same {
            return;
        }
        self.bits.clear();
        self.text.clear();
        self.ends.clear();
        for b in bounds {
            self.bits.push(b.to_bits());
            write_f64(&mut self.text, b, true);
            self.ends.push(self.text.len());
        }
    }

    /// The formatted `i`-th bound.
    pub(super) fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(f: f64) -> String {
        let mut v = Vec::new();
        write_f64(&mut v, f, false);
        String::from_utf8(v).unwrap()
    }

    fn om(f: f64) -> String {
        let mut v = Vec::new();
        write_f64(&mut v, f, true);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn integers() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            101,
            12_345,
            1_000_000,
            u64::MAX / 3,
            u64::MAX,
        ] {
            let mut v = Vec::new();
            write_u64(&mut v, n);
            assert_eq!(String::from_utf8(v).unwrap(), n.to_string());
        }
    }

    #[test]
    fn floats_like_go_strconv_g() {
        // Expected strings are what Go's strconv.FormatFloat(f, 'g', -1, 64) prints.
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (0.005, "0.005"),
            (0.1, "0.1"),
            (2.5, "2.5"),
            (10.0, "10"),
            (123_456.0, "123456"),
            (999_999.5, "999999.5"),
            (1e6, "1e+06"),
            (1_234_567.0, "1.234567e+06"),
            (2.5e6, "2.5e+06"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.000_123, "0.000123"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e100, "1e+100"),
            (-3.25e-300, "-3.25e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (f, want) in cases {
            assert_eq!(go(f), want, "{f:e}");
        }
    }

    #[test]
    fn floats_like_openmetrics() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "0.0"),
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (10.0, "10.0"),
            (0.005, "0.005"),
            (123_456.0, "123456.0"),
            (1e6, "1e+06"),
            (1e-5, "1e-05"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
        ];
        for (f, want) in cases {
            assert_eq!(om(f), want, "{f:e}");
        }
    }

    fn py(f: f64) -> String {
        let mut v = Vec::new();
        write_f64_python(&mut v, f);
        String::from_utf8(v).unwrap()
    }

    fn js(f: f64) -> String {
        let mut v = Vec::new();
        write_f64_js(&mut v, f);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn floats_like_prometheus_client() {
        // Expected strings are what prometheus_client 0.26's floatToGoString returns.
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (17.0, "17.0"),
            (-3.0, "-3.0"),
            (0.5, "0.5"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (123_456.0, "123456.0"),
            (1e6, "1e+06"),
            (1_234_567.0, "1.234567e+06"),
            (1_500_000.5, "1.5000005e+06"),
            (-1_234_567.0, "-1234567.0"),
            (1e15, "1e+15"),
            (1e16, "1e+16"),
            (1e21, "1e+21"),
            (1.796_465_364_604_778e9, "1.796465364604778e+09"),
            (-1.5e-7, "-1.5e-07"),
            (1e300, "1e+300"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (f, want) in cases {
            assert_eq!(py(f), want, "{f:e}");
        }
    }

    #[test]
    fn plain_decimals_give_the_shortest_digits() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let unit = (x >> 11) as f64 / (1u64 << 53) as f64;
            for f in [1.6e9 + unit * 4e8, unit * 1e-3, unit * 1e15, 0.5 + unit] {
                let mut plain = Vec::new();
                if f > 0.0 && write_timestamp_fast(&mut plain, f) {
                    let (a, b) = (Shortest::from_plain(&plain), Shortest::of(f));
                    assert_eq!((a.digits(), a.exp), (b.digits(), b.exp), "{f:e}");
                    let c = Shortest::from_timestamp(f).expect("parts where the plain form is");
                    assert_eq!((c.digits(), c.exp), (b.digits(), b.exp), "{f:e}");
                }
                let mut fast = Vec::new();
                if (1e6..1e16).contains(&f) && write_go_exponent_fast(&mut fast, f) {
                    let mut general = Vec::new();
                    Shortest::of(f).write_exponential(&mut general, 2);
                    assert_eq!(fast, general, "{f:e}");
                }
            }
        }
    }

    #[test]
    fn floats_like_javascript() {
        // Expected strings are what Node prints for `${x}` (and prom-client for NaN).
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (17.0, "17"),
            (-3.0, "-3"),
            (0.5, "0.5"),
            (0.000_001, "0.000001"),
            (1.5e-7, "1.5e-7"),
            (123_456_789.0, "123456789"),
            (1e20, "100000000000000000000"),
            (1.234_567_890_123_456_8e20, "123456789012345680000"),
            (1e21, "1e+21"),
            (-1e300, "-1e+300"),
            (9_007_199_254_740_993.0, "9007199254740992"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "Nan"),
        ];
        for (f, want) in cases {
            assert_eq!(js(f), want, "{f:e}");
        }
    }

    #[test]
    fn floats_round_trip() {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if f.is_finite() {
                assert_eq!(
                    go(f).parse::<f64>().unwrap().to_bits(),
                    f.to_bits(),
                    "{f:e} -> {}",
                    go(f)
                );
                assert_eq!(om(f).parse::<f64>().unwrap().to_bits(), f.to_bits());
                assert_eq!(py(f).parse::<f64>().unwrap().to_bits(), f.to_bits());
                assert_eq!(js(f).parse::<f64>().unwrap().to_bits(), f.to_bits());
            }
        }
    }

    fn ts(secs: f64) -> String {
        let mut v = Vec::new();
        write_timestamp(&mut v, secs);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn timestamps_are_plain_decimals() {
        assert_eq!(ts(1_520_430_000.123), "1520430000.123");
        assert_eq!(ts(1_520_430_000.0), "1520430000");
        assert_eq!(ts(1_520_430_000.05), "1520430000.05");
        assert_eq!(ts(0.000_001), "0.000001");
        assert_eq!(ts(0.0), "0");
        assert_eq!(ts(-1.5), "-1.5");
        assert_eq!(ts(0.999_999_999_9), "0.9999999999");
        let below_one = f64::from_bits(1.0f64.to_bits() - 1);
        assert_eq!(ts(below_one), below_one.to_string()); // 16 decimals: the fallback
        assert_eq!(ts(1e-12), "0.000000000001");
        assert_eq!(ts(f64::NAN), "NaN");
        // As Display (shortest round-trip, no exponent) for clock-like values.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = 1.6e9 + (x >> 11) as f64 / (1u64 << 53) as f64 * 4e8;
            assert_eq!(ts(secs), secs.to_string());
            let coarse = (secs * 1e3).round() / 1e3;
            assert_eq!(ts(coarse), coarse.to_string());
        }
    }

    #[test]
    fn escaping() {
        let mut v = Vec::new();
        write_escaped(&mut v, "a\\b\"c\nd", true);
        assert_eq!(v, br#"a\\b\"c\nd"#);
        v.clear();
        write_escaped(&mut v, "a\\b\"c\nd", false);
        assert_eq!(v, br#"a\\b"c\nd"#);
    }
}
