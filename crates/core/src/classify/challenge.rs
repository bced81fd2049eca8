//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1), parsed leniently: a
//! hostile or garbled header gives what could be read, never a panic.

use crate::http::is_tchar;

/// One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthChallenge {
    /// Lowercased scheme, e.g. `bearer`.
    pub scheme: String,
    /// The RFC 9728 `resource_metadata` parameter.
    pub resource_metadata: Option<String>,
    pub scope: Option<String>,
    pub error: Option<String>,
    /// RFC 6750 §3 `error_description`: the server's own words about why.
    pub error_description: Option<String>,
    pub realm: Option<String>,
}

/// Parses every challenge in the header value(s); tolerant of odd spacing and
/// quoted strings with escapes, never panics.
///
/// The grammar (RFC 9110 §11.2): `#challenge` where `challenge = auth-scheme
/// [ 1*SP ( token68 / #auth-param ) ]`. Commas separate both challenges and
/// parameters, so after a comma `name=` continues the current challenge and a
/// bare token starts a new one. A token68 (`Basic dXNlcg==`) is only allowed
/// straight after the scheme. Garbage is skipped a byte at a time; a
/// parameter seen before any scheme is dropped. When a parameter repeats, the
/// first value wins. Unquoted values are read up to a comma or space, which
/// also accepts the bare URLs some servers send.
pub fn parse_www_authenticate(value: &str) -> Vec<AuthChallenge> {
    let mut cur = Cursor {
        s: value.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    let mut current: Option<AuthChallenge> = None;
    // True while only the scheme of `current` has been read: a bare token
    // there is its token68, not a new challenge.
    let mut fresh = false;
    loop {
        if cur.skip_separators() {
            fresh = false;
        }
        let Some(c) = cur.peek() else { break };
        if c == b'"' {
            // A quoted string with nothing to belong to: skip it whole so
            // its contents aren't read as tokens.
            cur.quoted();
            fresh = false;
            continue;
        }
        if !(is_tchar(c) || fresh && is_token68_char(c)) {
            cur.i += 1;
            continue;
        }
        let mark = cur.i;
        let name = cur.token();
        if !name.is_empty() {
            cur.skip_ws();
            if cur.peek() == Some(b'=') {
                cur.i += 1;
                cur.skip_ws();
                let value = match cur.peek() {
                    Some(b'"') => Some(cur.quoted()),
                    // `name=` then the end or a comma: an empty parameter,
                    // unless it can only be token68 padding.
                    None | Some(b',') if !fresh => Some(String::new()),
                    Some(b) if b != b'=' && b != b',' => Some(cur.bare_value()),
                    _ => None,
                };
                if let Some(value) = value {
                    if let Some(ch) = current.as_mut() {
                        set_param(ch, &name, value);
                    }
                    fresh = false;
                    continue;
                }
            }
        }
        cur.i = mark;
        if fresh {
            cur.token68();
            fresh = false;
            continue;
        }
        let scheme = cur.token();
        if scheme.is_empty() {
            cur.i += 1;
            continue;
        }
        out.extend(current.take());
        current = Some(AuthChallenge {
            scheme: scheme.to_ascii_lowercase(),
            ..AuthChallenge::default()
        });
        fresh = true;
    }
    out.extend(current);
    out
}

pub(super) fn set_param(ch: &mut AuthChallenge, name: &str, value: String) {
    let slot = match name.to_ascii_lowercase().as_str() {
        "resource_metadata" => &mut ch.resource_metadata,
        "scope" => &mut ch.scope,
        "error" => &mut ch.error,
        "error_description" => &mut ch.error_description,
        "realm" => &mut ch.realm,
        _ => return,
    };
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// `token68` characters of RFC 9110 §11.2 (before the `=` padding).
pub(super) fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

pub(super) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A byte cursor over a header value. Every read collects bytes and decodes
/// them lossily, so no slice ever falls inside a UTF-8 sequence.
pub(super) struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.i += 1;
        }
    }

    /// Skips whitespace and commas; true when a comma was among them.
    fn skip_separators(&mut self) -> bool {
        let mut comma = false;
        while let Some(b) = self.peek() {
            if b == b',' {
                comma = true;
            } else if !is_ws(b) {
                break;
            }
            self.i += 1;
        }
        comma
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> String {
        let start = self.i;
        while self.peek().is_some_and(&keep) {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn token(&mut self) -> String {
        self.take_while(is_tchar)
    }

    fn token68(&mut self) -> String {
        let mut t = self.take_while(is_token68_char);
        t.push_str(&self.take_while(|b| b == b'='));
        t
    }

    fn bare_value(&mut self) -> String {
        self.take_while(|b| b != b',' && b != b'"' && !is_ws(b))
    }

    /// A quoted string starting at the opening quote; `\x` stands for `x`.
    /// An unterminated string runs to the end of the value.
    fn quoted(&mut self) -> String {
        let mut bytes = Vec::new();
        self.i += 1;
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        bytes.push(next);
                        self.i += 1;
                    }
                }
                _ => bytes.push(b),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- WWW-Authenticate --------------------------------------------------

    #[test]
    fn bearer_with_resource_metadata() {
        let v = r#"Bearer realm="mcp", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource""#;
        let got = parse_www_authenticate(v);
        assert_eq!(
            got,
            vec![AuthChallenge {
                scheme: "bearer".into(),
                realm: Some("mcp".into()),
                resource_metadata: Some(
                    "https://api.example.com/.well-known/oauth-protected-resource".into()
                ),
                ..Default::default()
            }]
        );
    }

    #[test]
    fn several_challenges_in_one_value() {
        let got = parse_www_authenticate(r#"Basic realm="a", Bearer scope="b""#);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].scheme, "basic");
        assert_eq!(got[0].realm.as_deref(), Some("a"));
        assert_eq!(got[0].scope, None);
        assert_eq!(got[1].scheme, "bearer");
        assert_eq!(got[1].scope.as_deref(), Some("b"));
        assert_eq!(got[1].realm, None);
    }

    #[test]
    fn parameters_after_commas_stay_with_their_challenge() {
        let v = r#"Bearer realm="x", error="invalid_token", error_description="expired", scope="read write""#;
        let got = parse_www_authenticate(v);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].error.as_deref(), Some("invalid_token"));
        assert_eq!(got[0].scope.as_deref(), Some("read write"));
    }

    #[test]
    fn token68_values() {
        let got = parse_www_authenticate("Basic dXNlcjpwYXNz==, Negotiate a/b+c=, Bearer realm=x");
        let schemes: Vec<&str> = got.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "negotiate", "bearer"]);
        assert_eq!(got[2].realm.as_deref(), Some("x"));
        assert_eq!(got[0].realm, None);
    }

    #[test]
    fn quoted_strings_with_escapes() {
        let got = parse_www_authenticate(
            r#"Bearer realm="a \"quoted\" realm, with comma", scope="s\\t""#,
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            got[0].realm.as_deref(),
            Some(r#"a "quoted" realm, with comma"#)
        );
        assert_eq!(got[0].scope.as_deref(), Some(r"s\t"));
    }

    #[test]
    fn odd_spacing_and_case() {
        let v =
            "  BEARER   Realm = \"r\"  ,RESOURCE_METADATA=https://x.example/prm ,,  scope= \"s\"  ";
        let got = parse_www_authenticate(v);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].scheme, "bearer");
        assert_eq!(got[0].realm.as_deref(), Some("r"));
        assert_eq!(
            got[0].resource_metadata.as_deref(),
            Some("https://x.example/prm")
        );
        assert_eq!(got[0].scope.as_deref(), Some("s"));
    }

    #[test]
    fn bare_schemes_and_joined_header_lines() {
        // Two header lines joined by the host with ", " (RFC 9110 §5.3).
        let got = parse_www_authenticate("Negotiate, Bearer error=\"invalid_request\"");
        let schemes: Vec<&str> = got.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["negotiate", "bearer"]);
        assert_eq!(got[1].error.as_deref(), Some("invalid_request"));
    }

    #[test]
    fn garbage_gives_what_could_be_parsed() {
        assert_eq!(parse_www_authenticate(""), vec![]);
        assert_eq!(parse_www_authenticate(" , ,, "), vec![]);
        assert_eq!(parse_www_authenticate("\"unterminated"), vec![]);
        let got = parse_www_authenticate("=== Bearer realm=\"open");
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].realm.as_deref(), Some("open"));
        // A parameter before any scheme is dropped, the rest kept.
        let got = parse_www_authenticate("realm=\"x\", Bearer scope=\"y\"");
        assert_eq!(got.last().and_then(|c| c.scope.as_deref()), Some("y"));
        let got = parse_www_authenticate("Bearer realm=\"é\u{1f600}\", scope=ü\\");
        assert_eq!(got[0].realm.as_deref(), Some("é\u{1f600}"));
        assert_eq!(got[0].scope.as_deref(), Some("ü\\"));
    }

    #[test]
    fn first_parameter_value_wins() {
        let got = parse_www_authenticate(r#"Bearer scope="first", scope="second""#);
        assert_eq!(got[0].scope.as_deref(), Some("first"));
    }

    #[test]
    fn random_header_values_never_panic() {
        let alphabet: Vec<char> = "aB9 =,\"\\\t/+~.é\u{1f600}-_".chars().collect();
        let mut seed: u64 = 42;
        for _ in 0..2000 {
            let mut s = String::new();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 58) as usize;
            for _ in 0..len {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            for ch in parse_www_authenticate(&s) {
                assert!(!ch.scheme.is_empty(), "empty scheme from {s:?}");
                assert_eq!(ch.scheme, ch.scheme.to_ascii_lowercase());
            }
        }
    }

    #[test]
    fn error_description_is_read_from_the_challenge() {
        let got = parse_www_authenticate(
            r#"Bearer error="invalid_token", error_description="Invalid or missing API key""#,
        );
        assert_eq!(
            got[0].error_description.as_deref(),
            Some("Invalid or missing API key")
        );
    }
}
