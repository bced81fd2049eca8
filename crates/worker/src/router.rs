//! Start here: the one route table. A request's path and method become a
//! typed [`Route`] ([`crate::routes`], pure and property-tested), the admin
//! token is checked for the routes that always need it ([`crate::admin`]),
//! and only then does the one handler of the route run. Handlers live one
//! resource a file and never call each other; this file is the only one that
//! knows them all.
//!
//! | route | handler |
//! |---|---|
//! | `POST /api/check`, `GET /api/health` | [`crate::check`] |
//! | `/api/monitors[/{id}[/maintenance\|/baseline]]` | [`crate::monitors`] |
//! | `/api/monitors/{id}/status`, `/metrics` | [`crate::status`] |
//! | `/api/monitors/{id}/history\|/incidents\|/drift` | [`crate::history`] |
//! | `POST /api/incidents/{id}/ack` | [`crate::alerts`] |
//! | `/badge/{id}.svg\|.json` | [`crate::badges`] |
//! | `GET /api/registry/summary` | [`crate::registry_api`] |
//! | `GET /api/debug/writes` | [`crate::debug`] |

use worker::{Env, Request, Response};

use crate::admin::require_admin;
use crate::error::ApiError;
use crate::routes::{self, BadgeFormat, Part, Route, RouteError};
use crate::{alerts, badges, check, debug, history, monitors, registry_api, status};

/// Set (`--var D1_QUERY_HEADER:1`, dev and tests only) to add
/// `X-D1-Queries` and `X-D1-Rows-Read` to every answer: the D1 statements
/// the request ran and the rows they read ([`crate::store::counters`]).
pub const QUERY_HEADER_VAR: &str = "D1_QUERY_HEADER";

/// The router: the path and method become a typed [`Route`] (pure, see
/// [`crate::routes`]), the admin token is checked for the routes that always
/// need it, and only then does a handler run.
pub async fn route(req: Request, env: Env) -> worker::Result<Response> {
    let counted = env
        .var(QUERY_HEADER_VAR)
        .is_ok_and(|v| v.to_string() == "1");
    let before = crate::store::counters();
    let path = req.path();
    let method = req.method();
    let result = match routes::resolve(&method, &path) {
        Ok(route) => dispatch(route, req, &env).await,
        Err(RouteError::MethodNotAllowed(allow)) => {
            Err(ApiError::method_not_allowed(&method, allow))
        }
        Err(RouteError::NotFound) => Err(ApiError::new(
            404,
            "no such route",
            "the API has /api/check, /api/monitors[/{id}[/status|/history|/incidents|/drift|/maintenance|/baseline]], /api/incidents/{id}/ack, /api/registry/summary, /badge/{id}.svg|.json, /metrics and /api/health",
        )),
    };
    let resp = match result {
        Ok(resp) => resp,
        Err(e) => e.into_response()?,
    };
    if counted {
        let after = crate::store::counters();
        let h = resp.headers();
        h.set("X-D1-Queries", &(after.0 - before.0).to_string())?;
        h.set("X-D1-Rows-Read", &(after.1 - before.1).to_string())?;
    }
    Ok(resp)
}

async fn dispatch(route: Route<'_>, req: Request, env: &Env) -> Result<Response, ApiError> {
    let method = req.method();
    if route.admin_only(&method) {
        require_admin(&req, env)?;
    }
    match route {
        Route::Check => check::check(req, env).await,
        Route::Health => check::health(),
        Route::Metrics => status::metrics(env).await,
        Route::DebugWrites => debug::writes(&req, env).await,
        Route::IncidentAck(id) => alerts::ack(&req, env, id.as_str()).await,
        Route::RegistrySummary => registry_api::summary(env).await,
        Route::Monitors => monitors::collection(req, env).await,
        Route::Monitor(id) => monitors::one(req, env, id.as_str()).await,
        Route::MonitorPart(id, part) => {
            let id = id.as_str();
            match part {
                Part::Maintenance => monitors::maintenance(req, env, id).await,
                Part::Baseline => monitors::baseline(&req, env, id).await,
                Part::Status => status::status(&req, env, id).await,
                Part::History => history::history(&req, env, id).await,
                Part::Incidents => history::incidents(&req, env, id).await,
                Part::Drift => history::drift(&req, env, id).await,
            }
        }
        Route::Badge(id, format) => {
            badges::badge(&req, env, id.as_str(), format == BadgeFormat::Json).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::core_err;
    use crate::routes::resolve;
    use crate::target::Policy;
    use proptest::prelude::*;
    use worker::Method;

    /// What the pure part of handling a request answers: the route (404,
    /// 405), then each route's own parsing of the query and body (the
    /// checks that run before any D1 or network work). 200: it would reach
    /// its handler.
    fn pure_status(method: &Method, path: &str, query: &str, body: &[u8]) -> u16 {
        use mcprobe_monitor::history;
        let route = match resolve(method, path) {
            Ok(r) => r,
            Err(e) => return e.status(),
        };
        let url = url::Url::parse(&format!("http://h/?{query}")).expect("a query parses");
        let first = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let policy = Policy {
            allow_loopback: false,
        };
        let outcome = match route {
            Route::Check => check::parse_check(body, policy).map(|_| ()),
            Route::Monitors if *method != Method::Post => {
                monitors::parse_list_query(url.query_pairs()).map(|_| ())
            }
            Route::MonitorPart(_, Part::History) => {
                history::parse_window(first("window").as_deref())
                    .map(|_| ())
                    .map_err(core_err)
            }
            Route::MonitorPart(_, Part::Incidents | Part::Drift) => {
                history::parse_limit(first("limit").as_deref())
                    .map(|_| ())
                    .map_err(core_err)
            }
            _ => Ok(()),
        };
        match outcome {
            Ok(()) => 200,
            Err(e) => e.status,
        }
    }

    fn method() -> impl Strategy<Value = Method> {
        prop_oneof![
            proptest::sample::select(Method::all()),
            // workers-rs maps any other method name to one of its own.
            "[A-Za-z\\-]{0,12}".prop_map(Method::from),
        ]
    }

    /// Paths an attacker would try: route words, ids, dots, encodings,
    /// unicode, empty and doubled segments, and very long ones.
    fn path() -> impl Strategy<Value = String> {
        let word = prop_oneof![
            proptest::sample::select(vec![
                "api",
                "monitors",
                "incidents",
                "ack",
                "badge",
                "check",
                "health",
                "metrics",
                "registry",
                "summary",
                "debug",
                "writes",
                "status",
                "history",
                "drift",
                "maintenance",
                "baseline",
                "a1b2c3d4e5f6",
                "x.svg",
                "x.json",
                ".svg",
                "..",
                ".",
                "",
                "%2F",
                "%2e%2e",
                "%00",
                "é",
                "🦀",
                "\\",
                "?",
                "#",
                ";",
            ])
            .prop_map(String::from),
            "\\PC{0,12}",
            "[a-z0-9_-]{60,70}",
        ];
        prop_oneof![
            proptest::collection::vec(word, 0..7).prop_map(|w| format!("/{}", w.join("/"))),
            "\\PC{0,64}",
            (0usize..20_000).prop_map(|n| format!("/api/monitors/{}", "a/".repeat(n))),
            (0usize..20_000).prop_map(|n| format!("/badge/{}.svg", "ab".repeat(n))),
        ]
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..512),
            "\\PC{0,256}".prop_map(String::into_bytes),
            ("\\PC{0,64}", "\\PC{0,64}").prop_map(|(u, h)| {
                serde_json::json!({"url": u, "headers": {h: "v"}, "snapshot": true})
                    .to_string()
                    .into_bytes()
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn no_request_panics_the_router_or_answers_5xx(
            m in method(),
            p in path(),
            q in "\\PC{0,128}",
            b in body(),
        ) {
            // As written, and as the runtime hands it over (the URL's
            // normalised, percent-encoded path).
            let normalised = url::Url::parse("http://h/")
                .and_then(|base| base.join(&p))
                .map(|u| u.path().to_string())
                .unwrap_or_default();
            for path in [p.as_str(), normalised.as_str()] {
                let status = pure_status(&m, path, &q, &b);
                prop_assert!(
                    [200, 400, 404, 405, 413, 422].contains(&status),
                    "{} {path:?} -> {status}", m.as_ref()
                );
                match Route::parse(path) {
                    None => prop_assert_eq!(status, 404),
                    Some(r) if !r.allows(&m) => prop_assert_eq!(status, 405),
                    Some(_) => {}
                }
            }
        }
    }
}
