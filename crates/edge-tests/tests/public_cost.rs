//! Start here: the unauthenticated routes cost a bounded number of D1
//! queries whatever the number of monitors, measured under real `wrangler
//! dev` (workerd, local D1) with [`MONITORS`] public monitors.
//!
//! The monitors come the way thousands would in production: a registry
//! listing ([`FakeRegistry`], one fleet server listed [`MONITORS`] times
//! under distinct `?copy=K` URLs) crawled by the cron tick at minute 5. That
//! tick then renders the public views (`crates/worker/src/public_views.rs`).
//!
//! The Worker runs with the dev-only `D1_QUERY_HEADER:1`, so every answer
//! carries `X-D1-Queries` (statements the request ran) and `X-D1-Rows-Read`
//! (D1's `meta.rows_read` summed): the figures this test prints as
//! `measure:` lines and bounds. `GET /api/monitors` is paged
//! (`?limit=&cursor=`), and walking every page must list each monitor once.

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mcprobe_edge_tests::client::{cron_path, Answer, Client};
use mcprobe_edge_tests::harness;
use mcprobe_testkit::registry::{FakeRegistry, Listing};
use mcprobe_testkit::Fleet;

/// Public monitors the routes are measured over.
const MONITORS: usize = 2_000;
/// Most D1 statements a public request may run, whatever [`MONITORS`] is.
const MAX_QUERIES: u64 = 2;
const DAY_MS: u64 = 86_400_000;
/// The crawl's minute of the hour (crates/worker/src/crawl.rs).
const CRAWL_MINUTE_MS: u64 = 5 * 60_000;

fn queries(a: &Answer) -> u64 {
    a.header("x-d1-queries").parse().unwrap_or(u64::MAX)
}

fn rows_read(a: &Answer) -> u64 {
    a.header("x-d1-rows-read").parse().unwrap_or(u64::MAX)
}

#[test]
fn public_routes_cost_bounded_queries_at_2000_monitors() {
    if harness::tools_or_skip().is_none() {
        return;
    }
    let fleet = Fleet::start_only(&["ok-modern"]).expect("the fleet starts");
    let listing = Listing::new()
        .remote("io.github.mcprobe/ok-modern", &fleet.url("ok-modern"))
        .copies(MONITORS);
    let reg = FakeRegistry::start_with_page_size(vec![("big", listing)], 100)
        .expect("the fake registry starts");
    let Some(dev) = harness::start(
        "public-cost",
        &[
            ("REGISTRIES", &reg.url("big")),
            ("D1_QUERY_HEADER", "1"),
            ("DIRECT_PROBES", "5000"),
        ],
    ) else {
        return;
    };
    let client = Client::new(&dev.url(), Duration::from_secs(300));

    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // Tomorrow 00:05 UTC: a full crawl; this tick lists, it does not probe.
    let crawl_at = now_ms - now_ms % DAY_MS + DAY_MS + CRAWL_MINUTE_MS;
    let started = Instant::now();
    let crawl = client.get(&cron_path(crawl_at));
    assert_eq!(crawl.status, 200, "{}\n{}", crawl.body, dev.log_tail(40));
    eprintln!(
        "measure: crawl tick of {MONITORS} listings: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The next minute probes every one of them in the cron invocation
    // (DIRECT_PROBES over the count), so /metrics has a sample for each.
    let started = Instant::now();
    let probe = client.get(&cron_path(crawl_at + 60_000));
    assert_eq!(probe.status, 200, "{}\n{}", probe.body, dev.log_tail(40));
    eprintln!(
        "measure: {MONITORS} monitors probed by one tick: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The registry summary: every monitor counted, from one row.
    let s = client.get("/api/registry/summary");
    assert_eq!(s.status, 200, "{}", s.body);
    let sj = s.json();
    assert_eq!(
        sj["monitors"]["live"],
        MONITORS as u64,
        "{}\n{}",
        s.body,
        dev.log_tail(40)
    );
    assert_eq!(sj["monitors"]["probed"], MONITORS as u64, "{}", s.body);
    eprintln!(
        "measure: GET /api/registry/summary at {MONITORS} monitors: {} D1 queries, {} rows read, {} bytes",
        queries(&s),
        rows_read(&s),
        s.body.len()
    );

    // /metrics: a line per monitor, from the rendered view.
    let m = client.get("/metrics");
    assert_eq!(m.status, 200, "{}", m.body);
    assert!(
        m.body.ends_with("# EOF\n"),
        "{}",
        &m.body[m.body.len().saturating_sub(200)..]
    );
    let families = m.body.lines().filter(|l| l.starts_with("# TYPE ")).count();
    assert_eq!(
        families, 3,
        "one TYPE line per family: the parts joined whole"
    );
    let up = m
        .body
        .lines()
        .filter(|l| l.starts_with("mcprobe_up{") && l.ends_with(" 1"))
        .count();
    assert_eq!(up, MONITORS, "a sample per monitor, up");
    eprintln!(
        "measure: GET /metrics at {MONITORS} monitors: {} D1 queries, {} rows read, {} bytes",
        queries(&m),
        rows_read(&m),
        m.body.len()
    );

    // The list, page by page: every monitor once, bounded per page.
    let first = client.get("/api/monitors");
    assert_eq!(first.status, 200, "{}", first.body);
    eprintln!(
        "measure: GET /api/monitors at {MONITORS} monitors: {} D1 queries, {} rows read, {} bytes",
        queries(&first),
        rows_read(&first),
        first.body.len()
    );
    let mut seen = BTreeSet::new();
    let mut path = "/api/monitors?limit=500".to_string();
    let mut pages = 0;
    let mut worst = (0u64, 0u64);
    loop {
        let a = client.get(&path);
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        worst = (worst.0.max(queries(&a)), worst.1.max(rows_read(&a)));
        let j = a.json();
        let page = j["monitors"].as_array().cloned().unwrap_or_default();
        assert!(page.len() <= 500, "{path}: {}", page.len());
        for mon in &page {
            let id = mon["id"].as_str().unwrap_or_default().to_string();
            assert!(seen.insert(id.clone()), "{id} listed twice");
        }
        pages += 1;
        assert!(pages <= MONITORS / 500 + 2, "the cursor does not advance");
        match j["next_cursor"].as_str() {
            Some(c) => path = format!("/api/monitors?limit=500&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), MONITORS, "every public monitor, once");
    eprintln!(
        "measure: GET /api/monitors?limit=500, {pages} pages: at most {} D1 queries, {} rows read a page",
        worst.0, worst.1
    );
    let too_big = client.get("/api/monitors?limit=501");
    assert_eq!(too_big.status, 400, "{}", too_big.body);

    for (route, a) in [
        ("/api/registry/summary", &s),
        ("/metrics", &m),
        ("/api/monitors", &first),
    ] {
        assert!(
            queries(a) <= MAX_QUERIES,
            "{route}: {} D1 queries at {MONITORS} monitors",
            queries(a)
        );
    }
    assert!(worst.0 <= MAX_QUERIES, "a page: {} queries", worst.0);
    // A page reads its own rows (an index range), not the table.
    assert!(worst.1 <= 2 * 501, "a page read {} rows", worst.1);
    assert!(rows_read(&first) <= 2 * 101, "{}", rows_read(&first));
}
