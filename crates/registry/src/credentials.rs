//! Start here: [`needs_credentials`]. A remote that declares a required
//! secret header is probed without it, so its 401/403 reads as
//! `auth_required` ("needs credentials"), not as down.

use mcprobe_core::verdict::{Finding, Mode, Verdict};

/// Re-reads the verdict of a remote whose registry entry declares required
/// secret headers (`headers`), probed without them: when the server turned us
/// away for want of credentials (HTTP 401/403, or the auth-flavoured call error
/// of `auth_half_configured`), that is the listing's own promise kept, so the
/// verdict becomes `auth_required` ("needs credentials") with the original mode
/// kept as a finding. Returns whether it changed the verdict.
pub fn needs_credentials(verdict: &mut Verdict, headers: &[String]) -> bool {
    if headers.is_empty() {
        return false;
    }
    let code = denial_status(verdict);
    let applies = match verdict.mode {
        Mode::HttpError | Mode::ToolsListFailed => code.is_some(),
        Mode::AuthHalfConfigured => true,
        _ => false,
    };
    if !applies {
        return false;
    }
    let names = headers.join(", ");
    let answer = match code {
        Some(c) => format!("the server answered HTTP {c}"),
        None => "the server refused the call for want of credentials".to_string(),
    };
    verdict.findings.insert(
        0,
        Finding {
            mode: verdict.mode,
            detail: format!(
                "before the registry's header declaration was applied: {}",
                verdict.reason
            ),
            pointer: None,
            rule: None,
        },
    );
    let (status, severity) = Mode::AuthRequired.status_severity(false);
    verdict.mode = Mode::AuthRequired;
    verdict.status = status;
    verdict.severity = severity;
    verdict.reason = format!(
        "Needs credentials: the registry lists a required secret header ({names}); probed without it, {answer}. Private on purpose, not down."
    );
    let first = headers
        .first()
        .map(String::as_str)
        .unwrap_or("Authorization");
    verdict.hint = format!(
        "Nothing is broken: to check past the credential, run `mcprobe check <url> --header '{first}: <value>'` with a value from the server's operator."
    );
    true
}

/// The 401/403 that turned the probe away, read from its steps or reason.
fn denial_status(v: &Verdict) -> Option<u16> {
    v.steps
        .iter()
        .filter(|s| !s.ok)
        .map(|s| s.detail.as_str())
        .chain(std::iter::once(v.reason.as_str()))
        .find_map(find_denial)
}

fn find_denial(text: &str) -> Option<u16> {
    let mut rest = text;
    while let Some(at) = rest.find("HTTP ") {
        let tail = &rest[at + 5..];
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        if digits == "401" || digits == "403" {
            return digits.parse().ok();
        }
        rest = tail;
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use mcprobe_core::verdict::{Severity, Status, Step};
    pub(crate) fn verdict(mode: Mode, reason: &str, steps: &[(&str, bool, &str)]) -> Verdict {
        Verdict {
            steps: steps
                .iter()
                .map(|(n, ok, d)| Step {
                    name: (*n).into(),
                    ok: *ok,
                    ms: 1,
                    detail: (*d).into(),
                })
                .collect(),
            elapsed_ms: 5,
            ..Verdict::of("https://x.example.com/mcp", mode, reason)
        }
    }

    #[test]
    fn a_401_of_a_remote_with_a_required_secret_reads_as_needs_credentials() {
        let secret = vec!["X-API-Key".to_string()];
        let mut v = verdict(
            Mode::HttpError,
            "The server wants credentials but does not say how to get them: HTTP 401 without a WWW-Authenticate challenge",
            &[("http", true, "first answer: HTTP 401"), ("server/discover", false, "HTTP 401")],
        );
        assert!(needs_credentials(&mut v, &secret));
        assert_eq!(
            (v.mode, v.status, v.severity),
            (Mode::AuthRequired, Status::Up, Severity::None)
        );
        assert!(v.reason.starts_with("Needs credentials"), "{}", v.reason);
        assert!(
            v.reason.contains("X-API-Key") && v.reason.contains("HTTP 401"),
            "{}",
            v.reason
        );
        assert_eq!(v.findings[0].mode, Mode::HttpError);
        assert!(
            v.hint.contains("--header 'X-API-Key: <value>'"),
            "{}",
            v.hint
        );

        // Without the declaration, or for another failure, nothing changes.
        let mut v = verdict(
            Mode::HttpError,
            "HTTP 401",
            &[("server/discover", false, "HTTP 401")],
        );
        assert!(!needs_credentials(&mut v, &[]));
        let mut v = verdict(
            Mode::HttpError,
            "HTTP 503",
            &[("server/discover", false, "HTTP 503")],
        );
        assert!(!needs_credentials(&mut v, &secret));
        assert_eq!(v.mode, Mode::HttpError);
        let mut v = verdict(Mode::HttpError, "HTTP 4010", &[]);
        assert!(!needs_credentials(&mut v, &secret), "4010 is not 401");
        let mut v = verdict(Mode::ConnectRefused, "refused", &[]);
        assert!(!needs_credentials(&mut v, &secret));
        // tools/list turned away, and the auth-flavoured safe call, count too.
        let mut v = verdict(
            Mode::ToolsListFailed,
            "tools/list answered HTTP 403 (x)",
            &[],
        );
        assert!(needs_credentials(&mut v, &secret));
        let mut v = verdict(Mode::AuthHalfConfigured, "missing API key", &[]);
        assert!(needs_credentials(&mut v, &secret));
        assert_eq!(v.mode, Mode::AuthRequired);
    }
}
