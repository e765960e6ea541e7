//! Checking a request's credentials against the configured [`Auth`].

use super::Auth;

/// What a request must present, prepared once at start.
pub(crate) struct Credentials {
    /// The exact `Authorization` header value expected.
    header: Vec<u8>,
    /// The `?access_token=` value accepted instead (bearer tokens only).
    query_token: Option<Vec<u8>>,
    /// The `WWW-Authenticate` challenge of a `401`.
    pub(crate) challenge: &'static str,
}

impl Credentials {
    pub(crate) fn new(auth: &Auth) -> Self {
        match auth {
            Auth::Bearer(token) => Self {
                header: format!("Bearer {token}").into_bytes(),
                query_token: Some(token.as_bytes().to_vec()),
                challenge: "Bearer realm=\"metricore\"",
            },
            Auth::Basic { user, password } => Self {
                header: format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
                    .into_bytes(),
                query_token: None,
                challenge: "Basic realm=\"metricore\", charset=\"UTF-8\"",
            },
        }
    }

    /// Whether the `Authorization` header, or the decoded `access_token` query value,
    /// matches.
    pub(crate) fn accepts(&self, header: Option<&[u8]>, query_token: Option<&[u8]>) -> bool {
        let by_header = header.is_some_and(|h| constant_time_eq(h, &self.header));
        let by_query = match (&self.query_token, query_token) {
            (Some(expected), Some(given)) => constant_time_eq(given, expected),
            _ => false,
        };
        by_header | by_query
    }
}

/// Compares without an early exit, so the time taken does not tell how many leading bytes
/// of a guess were right. (The length is not hidden.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Standard base64 with padding (RFC 4648 §4), as HTTP Basic credentials are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        // RFC 4648 §10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn basic_credentials_are_the_rfc_7617_example() {
        // RFC 7617 §2: user "Aladdin", password "open sesame".
        let c = Credentials::new(&Auth::Basic {
            user: "Aladdin".into(),
            password: "open sesame".into(),
        });
        assert!(c.accepts(Some(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), None));
        assert!(!c.accepts(Some(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZR=="), None));
        assert!(!c.accepts(None, Some(b"open sesame")));
    }

    #[test]
    fn bearer_token_by_header_or_query() {
        let c = Credentials::new(&Auth::Bearer("s3cret".into()));
        assert!(c.accepts(Some(b"Bearer s3cret"), None));
        assert!(c.accepts(None, Some(b"s3cret")));
        assert!(!c.accepts(Some(b"Bearer s3cre"), Some(b"s3cre")));
        assert!(!c.accepts(None, None));
    }
}
