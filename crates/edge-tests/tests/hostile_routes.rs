//! Start here: hostile requests against the built Worker under real
//! `wrangler dev` (workerd, local D1).
//!
//! 1. [`random_requests_never_5xx_and_the_isolate_survives`]: a cron tick
//!    first, so the isolate holds a value only its memory keeps (the write
//!    counts of `GET /api/debug/writes`: `runs` goes back to 0 if the isolate
//!    is reset, which is what a panic in workers-rs does). Then the request
//!    that crashed the old router (`POST /api/incidents/ack`, a path sliced
//!    `[15..14]`) and [`SAMPLE`] random requests from a fixed seed: random
//!    methods, paths (route words, ids, `..`, `//`, percent-encodings,
//!    unicode, very long), query strings, bodies, with and without the
//!    admin token. None may answer 5xx or fail at the transport; after them
//!    the Worker answers a normal request and `runs` is still what it was.
//! 2. [`badges_follow_the_status_visibility_rule`]: a non-public monitor's
//!    badge is the unknown badge (404) without the token, as its status is
//!    401; with the token both answer; a public one's to anyone.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcprobe_edge_tests::client::{cron_path, Client};
use mcprobe_edge_tests::edge::DEV_ADMIN_TOKEN;
use mcprobe_edge_tests::harness;
use mcprobe_testkit::Fleet;
use serde_json::json;

/// Random requests sent (deterministic: [`SEED`]).
const SAMPLE: usize = 300;
const SEED: u64 = 0x6d63_7072_6f62_6521;

/// xorshift64*: a fixed seed gives the same sample on every run, so a
/// failure can be replayed; no dependency needed for a few hundred draws.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "FOO",
];

const WORDS: [&str; 33] = [
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
    "r0123456789abcde",
    "x.svg",
    "x.json",
    ".svg",
    "..",
    ".",
    "",
    "%2F",
    "%2e%2e",
    "%00",
    "%ff%fe",
    "%C3%A9",
    "é",
    "🦀",
    "a-1767225600000",
];

const QUERIES: [&str; 10] = [
    "",
    "?limit=0",
    "?limit=99999999999999999999",
    "?limit=-1&cursor=..",
    "?window=forever",
    "?source=nope",
    "?cursor=%00",
    "?a=1&a=2&&&=",
    "?%ff=%fe",
    "?window=24h&limit=500",
];

fn random_path(rng: &mut Rng) -> String {
    match rng.below(14) {
        // A very long path (and a very long id).
        0 => format!("/api/monitors/{}", "a/".repeat(1 + rng.below(1500))),
        1 => format!("/badge/{}.svg", "ab".repeat(1 + rng.below(1500))),
        // Doubled slashes before a real route.
        2 => format!(
            "/{}api/incidents/{}ack",
            "/".repeat(rng.below(3)),
            "/".repeat(rng.below(3))
        ),
        // The real routes' shapes around random words and ids.
        3 | 4 => format!("/api/monitors/{}/{}", rng.pick(&WORDS), rng.pick(&WORDS)),
        5 => format!("/api/incidents/{}/ack", rng.pick(&WORDS)),
        6 => format!(
            "/badge/{}.{}",
            rng.pick(&WORDS),
            rng.pick(&["svg", "json", "png"])
        ),
        7 => format!("/api/{}", rng.pick(&WORDS)),
        _ => {
            let n = rng.below(6);
            let words: Vec<&str> = (0..n).map(|_| rng.pick(&WORDS)).collect();
            let prefix = if rng.below(4) == 0 { "/api/" } else { "/" };
            format!("{prefix}{}", words.join("/"))
        }
    }
}

fn random_body(rng: &mut Rng) -> Option<Vec<u8>> {
    match rng.below(5) {
        0 => None,
        1 => Some((0..rng.below(2048)).map(|_| rng.next() as u8).collect()),
        2 => Some(
            json!({"url": rng.pick(&["", "not a url", "ftp://x/", "http://10.0.0.1/", "file:///etc/passwd"]),
                   "name": "x".repeat(rng.below(300)),
                   "headers": {"Bad Name": "v"},
                   "minutes": rng.below(100_000)})
            .to_string()
            .into_bytes(),
        ),
        3 => Some(b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".repeat(1 + rng.below(50))),
        _ => Some(b"{\"url\": \"\\ud800\"}".to_vec()),
    }
}

#[test]
fn random_requests_never_5xx_and_the_isolate_survives() {
    let Some(dev) = harness::start("hostile-routes", &[]) else {
        return;
    };
    let client = Client::new(&dev.url(), Duration::from_secs(60));
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let tick = client.get(&cron_path(now_ms - now_ms % 60_000));
    assert_eq!(tick.status, 200, "{}", tick.body);
    let runs = || client.admin_get("/api/debug/writes").json()["runs"].as_u64();
    let runs_before = runs();
    assert_eq!(runs_before, Some(1), "{}", dev.log_tail(40));

    // The one request that crashed the old router, without a token.
    let ack = client.send(reqwest::Method::POST, "/api/incidents/ack", false, None);
    assert_eq!(ack.status, 404, "{}\n{}", ack.body, dev.log_tail(40));
    assert!(ack.json()["hint"].as_str().is_some(), "{}", ack.body);

    let mut rng = Rng(SEED);
    let mut failures = Vec::new();
    let mut by_status = std::collections::BTreeMap::new();
    for i in 0..SAMPLE {
        let method = reqwest::Method::from_bytes(rng.pick(&METHODS).as_bytes())
            .unwrap_or(reqwest::Method::GET);
        let path = format!("{}{}", random_path(&mut rng), rng.pick(&QUERIES));
        let body = random_body(&mut rng);
        // The fetch API (and so wrangler's proxy in front of workerd) cannot
        // carry a body on GET or HEAD: the Worker never sees one there.
        let body =
            body.filter(|_| method != reqwest::Method::GET && method != reqwest::Method::HEAD);
        let token = rng.below(4) == 0;
        let mut req = client
            .http
            .request(method.clone(), format!("{}{path}", client.base));
        if token {
            req = req.bearer_auth(DEV_ADMIN_TOKEN);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let answer = client.rt.block_on(async {
            let r = req.send().await?;
            let s = r.status().as_u16();
            Ok::<_, reqwest::Error>((s, r.text().await.unwrap_or_default()))
        });
        match answer {
            Ok((s, text)) => {
                *by_status.entry(s).or_insert(0u32) += 1;
                // workerd answers a method it does not know (FOO) with 501
                // itself, before any Worker code runs: that is the platform's
                // answer, not a Worker failure (the Worker never says 501).
                let platform = s == 501 && method.as_str() == "FOO" && !text.contains("\"error\"");
                if s >= 500 && !platform {
                    failures.push(format!("#{i} {method} {path} (token: {token}) -> {s}"));
                }
            }
            Err(e) => failures.push(format!("#{i} {method} {path} -> transport error {e}")),
        }
    }
    eprintln!("measure: {SAMPLE} random requests by status: {by_status:?}");
    assert!(
        failures.is_empty(),
        "{} of {SAMPLE} failed:\n{}\n{}",
        failures.len(),
        failures.join("\n"),
        dev.log_tail(40)
    );

    // Healthy after: a normal request answers, and the isolate is the same
    // one (its in-memory counts survived).
    let health = client.get("/api/health");
    assert_eq!(health.status, 200, "{}", health.body);
    let listed = client.get("/api/monitors");
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(
        runs(),
        runs_before,
        "the isolate was reset\n{}",
        dev.log_tail(40)
    );
}

#[test]
fn badges_follow_the_status_visibility_rule() {
    let Some(dev) = harness::start("hostile-badges", &[]) else {
        return;
    };
    let fleet = Fleet::start_only(&["ok-modern"]).expect("the fleet starts");
    let client = Client::new(&dev.url(), Duration::from_secs(60));
    let mut ids = Vec::new();
    for public in [false, true] {
        let a = client.admin_post(
            "/api/monitors",
            Some(json!({"url": fleet.url("ok-modern"), "name": format!("public-{public}"), "public": public})),
        );
        assert_eq!(a.status, 201, "{}", a.body);
        ids.push(a.json()["id"].as_str().unwrap_or_default().to_string());
    }
    let (private, public) = (&ids[0], &ids[1]);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let tick = client.get(&cron_path(now_ms - now_ms % 60_000));
    assert_eq!(tick.status, 200, "{}", tick.body);

    // The status route's rule: the private one needs the token.
    let status = |id: &str, token: bool| {
        client
            .send(
                reqwest::Method::GET,
                &format!("/api/monitors/{id}/status"),
                token,
                None,
            )
            .status
    };
    assert_eq!(status(private, false), 401);
    assert_eq!(status(private, true), 200);
    assert_eq!(status(public, false), 200);

    let unknown = client.get("/badge/nosuchmonitor.json");
    assert_eq!(unknown.status, 404);
    for ext in ["svg", "json"] {
        let path = format!("/badge/{private}.{ext}");
        let hidden = client.get(&path);
        assert_eq!(hidden.status, 404, "{path}: {}", hidden.body);
        // The very answer of an unknown id: nothing tells it exists.
        if ext == "json" {
            assert_eq!(hidden.json(), unknown.json(), "{}", hidden.body);
        }
        assert!(hidden.body.contains("unknown"), "{}", hidden.body);
        assert!(!hidden.body.contains("up 100%"), "{}", hidden.body);
        let shown = client.send(reqwest::Method::GET, &path, true, None);
        assert_eq!(shown.status, 200, "{path}: {}", shown.body);
        assert!(shown.body.contains("up 100%"), "{}", shown.body);
        assert_eq!(shown.header("cache-control"), "private, no-store");
        let open = client.get(&format!("/badge/{public}.{ext}"));
        assert_eq!(open.status, 200, "{}", open.body);
        assert!(open.body.contains("up 100%"), "{}", open.body);
        assert_eq!(open.header("cache-control"), "max-age=60");
    }
    // The public list and the metrics never name the private one.
    let listed = client.get("/api/monitors");
    assert!(!listed.body.contains(private.as_str()), "{}", listed.body);
    assert!(listed.body.contains(public.as_str()), "{}", listed.body);
    let metrics = client.get("/metrics");
    assert!(!metrics.body.contains(private.as_str()), "{}", metrics.body);
    assert!(metrics.body.contains(public.as_str()), "{}", metrics.body);
}
