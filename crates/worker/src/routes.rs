//! Start here: the Worker's routes, parsed (pure, host-tested, and
//! property-tested with the route table in [`crate::router`]): a request path and method become one typed [`Route`]
//! or a clean [`RouteError`] (404 or 405), with no index arithmetic on the
//! path, so no input can make the router panic (a panic in workers-rs resets
//! the whole isolate: every request in flight, the accumulators and the alert
//! policies held in memory).
//!
//! The path is matched as the runtime hands it over (`Url::path()`,
//! percent-encoded): segments are split on `/`, one trailing `/` is
//! forgiven, and ids ([`Id`]) are checked for their shape before anything
//! reads D1 with them. [`Route::admin_only`] says which routes need the admin
//! token whatever the monitor; the router checks it before any other work.

use worker::Method;

/// Longest id accepted: monitor ids are 12 or 16 characters, incident ids a
/// monitor id, `-` and a time in ms.
pub const MAX_ID_LEN: usize = 64;

/// A monitor or incident id as it appears in a path: 1..=[`MAX_ID_LEN`]
/// ASCII letters, digits, `-` or `_` (what the Worker mints: hex, `r` +
/// hex, `{monitor}-{ms}`). Anything else cannot name a row, so it is a 404
/// before any query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id<'a>(&'a str);

impl<'a> Id<'a> {
    pub fn parse(s: &'a str) -> Option<Id<'a>> {
        let ok = !s.is_empty()
            && s.len() <= MAX_ID_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then_some(Id(s))
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// What a monitor's sub-route is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Maintenance,
    Baseline,
    Status,
    History,
    Incidents,
    Drift,
}

impl Part {
    fn parse(s: &str) -> Option<Part> {
        Some(match s {
            "maintenance" => Part::Maintenance,
            "baseline" => Part::Baseline,
            "status" => Part::Status,
            "history" => Part::History,
            "incidents" => Part::Incidents,
            "drift" => Part::Drift,
            _ => return None,
        })
    }
}

/// The badge's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeFormat {
    Svg,
    Json,
}

/// Every route the Worker answers (static assets are served before it runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// `/api/check`
    Check,
    /// `/api/health`
    Health,
    /// `/metrics`
    Metrics,
    /// `/api/debug/writes`
    DebugWrites,
    /// `/api/incidents/{id}/ack`
    IncidentAck(Id<'a>),
    /// `/api/registry/summary`
    RegistrySummary,
    /// `/api/monitors`
    Monitors,
    /// `/api/monitors/{id}`
    Monitor(Id<'a>),
    /// `/api/monitors/{id}/{part}`
    MonitorPart(Id<'a>, Part),
    /// `/badge/{id}.svg`, `/badge/{id}.json`
    Badge(Id<'a>, BadgeFormat),
}

/// Why a request has no handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// 404: no such route (or an id that cannot exist).
    NotFound,
    /// 405: the route exists; these methods are its `Allow` header.
    MethodNotAllowed(&'static str),
}

impl RouteError {
    pub fn status(&self) -> u16 {
        match self {
            RouteError::NotFound => 404,
            RouteError::MethodNotAllowed(_) => 405,
        }
    }
}

/// Most segments any route has (`/api/monitors/{id}/{part}` has 4 after `/`).
const MAX_SEGMENTS: usize = 4;

impl<'a> Route<'a> {
    /// The route of a path, if any.
    pub fn parse(path: &'a str) -> Option<Route<'a>> {
        // One trailing slash is forgiven ("/api/monitors/"), never more.
        let path = match path.strip_suffix('/') {
            Some(p) if !p.is_empty() => p,
            _ => path,
        };
        if path == "/metrics" {
            return Some(Route::Metrics);
        }
        if let Some(name) = path.strip_prefix("/badge/") {
            let (id, format) = if let Some(id) = name.strip_suffix(".svg") {
                (id, BadgeFormat::Svg)
            } else {
                (name.strip_suffix(".json")?, BadgeFormat::Json)
            };
            return Some(Route::Badge(Id::parse(id)?, format));
        }
        let rest = path.strip_prefix("/api/")?;
        let mut segments = rest.splitn(MAX_SEGMENTS + 1, '/');
        let mut seg = [""; MAX_SEGMENTS];
        let mut n = 0;
        for s in segments.by_ref() {
            if n == MAX_SEGMENTS {
                return None;
            }
            seg[n] = s;
            n += 1;
        }
        Some(match &seg[..n] {
            ["check"] => Route::Check,
            ["health"] => Route::Health,
            ["debug", "writes"] => Route::DebugWrites,
            ["registry", "summary"] => Route::RegistrySummary,
            ["incidents", id, "ack"] => Route::IncidentAck(Id::parse(id)?),
            ["monitors"] => Route::Monitors,
            ["monitors", id] => Route::Monitor(Id::parse(id)?),
            ["monitors", id, part] => Route::MonitorPart(Id::parse(id)?, Part::parse(part)?),
            _ => return None,
        })
    }

    /// The methods the route accepts, as an `Allow` header. HEAD goes with
    /// every GET (the runtime drops the body).
    pub fn allow(&self) -> &'static str {
        match self {
            Route::Check | Route::IncidentAck(_) => "POST",
            Route::Health
            | Route::Metrics
            | Route::DebugWrites
            | Route::RegistrySummary
            | Route::Badge(..) => "GET, HEAD",
            Route::Monitors => "GET, HEAD, POST",
            Route::Monitor(_) => "GET, HEAD, PATCH, DELETE",
            Route::MonitorPart(_, Part::Maintenance | Part::Baseline) => "POST",
            Route::MonitorPart(_, _) => "GET, HEAD",
        }
    }

    /// Whether `method` is one the route accepts.
    pub fn allows(&self, method: &Method) -> bool {
        let name = match method {
            Method::Head => "HEAD",
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            _ => return false,
        };
        self.allow().split(", ").any(|m| m == name)
    }

    /// Whether the route needs the admin token whoever the monitor is
    /// (checked before any other work). The status, history, incidents and
    /// drift of a non-public monitor need it too, which only its row tells.
    pub fn admin_only(&self, method: &Method) -> bool {
        match self {
            Route::DebugWrites | Route::IncidentAck(_) | Route::Monitor(_) => true,
            Route::MonitorPart(_, Part::Maintenance | Part::Baseline) => true,
            Route::Monitors => *method == Method::Post,
            _ => false,
        }
    }
}

/// The route of a request, or why there is none.
pub fn resolve<'a>(method: &Method, path: &'a str) -> Result<Route<'a>, RouteError> {
    let route = Route::parse(path).ok_or(RouteError::NotFound)?;
    if route.allows(method) {
        Ok(route)
    } else {
        Err(RouteError::MethodNotAllowed(route.allow()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Id<'_> {
        Id::parse(s).expect("a valid id")
    }

    #[test]
    fn every_route_parses_to_its_variant() {
        let m = "a1b2c3d4e5f6";
        let cases: Vec<(String, Route)> = vec![
            ("/api/check".into(), Route::Check),
            ("/api/health".into(), Route::Health),
            ("/metrics".into(), Route::Metrics),
            ("/api/debug/writes".into(), Route::DebugWrites),
            ("/api/registry/summary".into(), Route::RegistrySummary),
            ("/api/monitors".into(), Route::Monitors),
            ("/api/monitors/".into(), Route::Monitors),
            (format!("/api/monitors/{m}"), Route::Monitor(id(m))),
            (
                format!("/api/monitors/{m}/status"),
                Route::MonitorPart(id(m), Part::Status),
            ),
            (
                format!("/api/monitors/{m}/maintenance"),
                Route::MonitorPart(id(m), Part::Maintenance),
            ),
            (
                format!("/api/incidents/{m}-1767225600000/ack"),
                Route::IncidentAck(id("a1b2c3d4e5f6-1767225600000")),
            ),
            (
                format!("/badge/{m}.svg"),
                Route::Badge(id(m), BadgeFormat::Svg),
            ),
            (
                format!("/badge/{m}.json"),
                Route::Badge(id(m), BadgeFormat::Json),
            ),
        ];
        for (path, want) in cases {
            assert_eq!(Route::parse(&path), Some(want), "{path}");
        }
    }

    #[test]
    fn the_ack_route_without_an_id_is_a_404_not_a_panic() {
        // The slice `[15..14]` of the old router panicked on exactly this.
        for p in [
            "/api/incidents/ack",
            "/api/incidents//ack",
            "/api/incidents/ack/",
            "/api/incidents/",
            "/api/incidents/x/y/ack",
        ] {
            assert_eq!(resolve(&Method::Post, p), Err(RouteError::NotFound), "{p}");
        }
    }

    #[test]
    fn ids_of_the_wrong_shape_are_404() {
        for p in [
            "/api/monitors/a%2Fb",
            "/api/monitors/..",
            "/api/monitors//status",
            "/api/monitors/a/b/c",
            "/api/monitors/a/nope",
            "/badge/.svg",
            "/badge/x.png",
            "/badge/a/b.svg",
            "/api/checks",
            "/api//check",
            "/api",
            "/",
            "",
        ] {
            assert_eq!(Route::parse(p), None, "{p}");
        }
        let long = format!("/api/monitors/{}", "a".repeat(MAX_ID_LEN + 1));
        assert_eq!(Route::parse(&long), None);
        let just = format!("/api/monitors/{}", "a".repeat(MAX_ID_LEN));
        assert!(Route::parse(&just).is_some());
    }

    #[test]
    fn methods_are_405_with_the_allow_header() {
        assert_eq!(
            resolve(&Method::Get, "/api/check"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            resolve(&Method::Put, "/api/monitors"),
            Err(RouteError::MethodNotAllowed("GET, HEAD, POST"))
        );
        assert_eq!(
            resolve(&Method::Options, "/badge/abc.svg"),
            Err(RouteError::MethodNotAllowed("GET, HEAD"))
        );
        assert_eq!(resolve(&Method::Head, "/metrics"), Ok(Route::Metrics));
        assert_eq!(
            resolve(&Method::Delete, "/api/monitors/abc"),
            Ok(Route::Monitor(id("abc")))
        );
    }

    #[test]
    fn the_admin_routes_are_known_before_any_work() {
        let post = Method::Post;
        assert!(Route::IncidentAck(id("x")).admin_only(&post));
        assert!(Route::Monitors.admin_only(&post));
        assert!(!Route::Monitors.admin_only(&Method::Get));
        assert!(Route::Monitor(id("x")).admin_only(&Method::Get));
        assert!(Route::MonitorPart(id("x"), Part::Baseline).admin_only(&post));
        assert!(!Route::MonitorPart(id("x"), Part::Status).admin_only(&Method::Get));
        assert!(!Route::Badge(id("x"), BadgeFormat::Svg).admin_only(&Method::Get));
        assert!(!Route::Check.admin_only(&post));
    }
}
