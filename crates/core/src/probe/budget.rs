//! Start here: the per-check budget of HTTP requests. Every request the
//! probe hands its host (each redirect hop too) is counted; past the budget
//! the probe stops with `http_error` and a finding that says so. A public
//! checker (the Worker's `/api/check`) must not be a lever for one caller to
//! make it send hundreds of requests wherever a server points.

use super::exchange::Purpose;
use super::Probe;
use crate::http::HttpRequest;
use crate::jsonrpc;
use crate::verdict::{Finding, Mode};

/// The finding's rule id.
pub(crate) const RULE_REQUEST_BUDGET: &str = "mcprobe.request-budget";

impl Probe {
    /// Counts `request` against the budget. When the budget is spent the
    /// request is not made: the probe ends (cancelling what is open) and
    /// false comes back.
    pub(super) fn spend_request(
        &mut self,
        purpose: &Purpose,
        request: &HttpRequest,
        now: u64,
    ) -> bool {
        let max = self.cfg.limits.max_requests;
        if self.requests_made < max {
            self.requests_made += 1;
            return true;
        }
        let next = format!(
            "{} {}",
            request.method.as_str(),
            jsonrpc::excerpt(request.url.as_bytes(), 200)
        );
        let detail = format!(
            "the probe made {max} HTTP requests, its budget for one check, and stopped before {next}"
        );
        self.report.findings.push(Finding {
            mode: Mode::HttpError,
            detail: detail.clone(),
            pointer: None,
            rule: Some(RULE_REQUEST_BUDGET.into()),
        });
        // Closing a session is a courtesy: skipping it fails nothing.
        if !matches!(purpose, Purpose::EndSession) {
            self.report.fail(
                Mode::HttpError,
                format!("The server kept the probe asking: {detail}"),
            );
        }
        self.finish(now);
        false
    }
}

#[cfg(test)]
mod tests {
    use crate::http::{Headers, Method};
    use crate::probe::{Action, Limits, Probe, ProbeConfig};
    use crate::verdict::Mode;

    /// Drives a probe against a server that redirects every request to a
    /// fresh path (so no redirect loop is seen) and counts the requests.
    fn redirect_forever(max_requests: u32, max_redirects: u8) -> (crate::Verdict, u32) {
        let mut cfg = ProbeConfig::new("http://srv/mcp");
        cfg.limits = Limits {
            max_requests,
            max_redirects,
            ..Limits::default()
        };
        let mut now = 0;
        let mut probe = Probe::new(cfg, now).expect("config");
        let mut made = 0;
        for _ in 0..10_000 {
            match probe.poll(now) {
                Action::Http { id, request, .. } => {
                    made += 1;
                    assert_ne!(request.method, Method::Delete);
                    let headers: Headers = vec![("location".into(), format!("/hop/{made}"))];
                    probe.on_head(id, 307, headers, now);
                }
                Action::Wait { until_ms } => now = until_ms,
                Action::Done(v) => return (*v, made),
                _ => {}
            }
        }
        panic!("no verdict");
    }

    #[test]
    fn the_probe_stops_at_its_request_budget() {
        let (v, made) = redirect_forever(4, 100);
        assert_eq!(made, 4, "{v:#?}");
        assert_eq!(v.mode, Mode::HttpError);
        assert!(v.reason.contains("budget"), "{}", v.reason);
        let f = v
            .findings
            .iter()
            .find(|f| f.rule.as_deref() == Some(super::RULE_REQUEST_BUDGET))
            .expect("a budget finding");
        assert!(f.detail.contains("POST http://srv/hop/4"), "{}", f.detail);
    }

    #[test]
    fn the_default_budget_holds_an_honest_redirect_chain() {
        // Five redirects of the first request are well inside the default.
        let (v, made) = redirect_forever(crate::probe::limits::MAX_REQUESTS, 5);
        assert_eq!(made, 6);
        assert!(v.reason.contains("redirect"), "{}", v.reason);
        assert!(!v.reason.contains("budget"), "{}", v.reason);
    }
}
