//! Start here: `mcprobe watch` as a real process against the fault fleet's
//! `switch` server (up at variant 0, HTTP 503 at variant 1) and a webhook
//! receiver written here (127.0.0.1, records every request, can answer 500
//! to the first N). Every test has its own fleet, receiver and state file,
//! runs with `--time-scale 30` (a 30 s interval becomes 1 s, the +10 s / +20 s
//! re-probes 333 / 667 ms) and waits by polling with deadlines: the
//! receiver's log, and the probe counter and outbox in the SQLite file.

// `libc::kill` (SIGTERM to the watcher) is unsafe FFI; the workspace denies
// unsafe_code, this file needs exactly that.
#![allow(unsafe_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcprobe_testkit::Fleet;
use serde_json::Value;

const SCALE: &str = "30";
/// Longest any single wait may take.
const WAIT: Duration = Duration::from_secs(20);
const PD_KEY: &str = "R0UT1NG-test-key";

// ---- the receiver ---------------------------------------------------------

#[derive(Debug, Clone)]
struct Received {
    /// Path and query.
    path: String,
    authorization: Option<String>,
    body: Value,
}

/// A webhook / PagerDuty / Opsgenie stand-in on 127.0.0.1.
struct Receiver {
    port: u16,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// A receiver answering 500 to its first `fail_first` requests, then 202.
    fn start(fail_first: u32) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let port = listener.local_addr().expect("addr").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicU32::new(fail_first));
        let l2 = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (l3, f3) = (l2.clone(), fail.clone());
                std::thread::spawn(move || serve(stream, &l3, &f3));
            }
        });
        Receiver { port, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn count(&self) -> usize {
        self.received().len()
    }
}

/// One HTTP/1.1 request per connection (the answer says `Connection: close`).
fn serve(mut stream: TcpStream, log: &Mutex<Vec<Received>>, fail: &AtomicU32) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut len = 0usize;
    let mut authorization = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
            if k.eq_ignore_ascii_case("authorization") {
                authorization = Some(v.trim().to_string());
            }
        }
    }
    let mut body = vec![0u8; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let status = if fail
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        "500 Internal Server Error"
    } else {
        "202 Accepted"
    };
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Received {
            path,
            authorization,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.flush();
}

// ---- the watcher process ----------------------------------------------------

fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mcprobe-watch-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A config for the fleet's `switch` server with the given alert channels.
fn write_config(dir: &Path, url: &str, alerts: &str) -> PathBuf {
    let text = format!(
        "[watch]\nstate = \"state.sqlite\"\npublic_base = \"https://status.example.com\"\n\n\
         [[monitor]]\nname = \"Switch\"\nurl = \"{url}\"\ninterval_s = 30\n\n\
         [monitor.alerts]\n{alerts}\n"
    );
    let path = dir.join("monitors.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

fn all_channels(r: &Receiver) -> String {
    format!(
        "webhook = {{ url = \"{}\" }}\nslack = {{ url = \"{}\" }}\n\
         pagerduty = {{ routing_key = \"${{WATCH_TEST_PD_KEY}}\", api_base = \"{}\" }}\n\
         opsgenie = {{ api_key = \"OGKEY\", api_base = \"{}\" }}",
        r.url("/webhook"),
        r.url("/slack"),
        r.url("/pd"),
        r.url("/og")
    )
}

fn mcprobe(config: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcprobe"));
    c.arg("watch")
        .arg("--config")
        .arg(config)
        .args(args)
        .env("WATCH_TEST_PD_KEY", PD_KEY)
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy");
    c
}

/// A running daemon, killed (SIGKILL) when dropped; its stderr goes to a file.
struct Watcher {
    child: Child,
    log: PathBuf,
}

impl Watcher {
    fn start(config: &Path, log: PathBuf) -> Watcher {
        let file = std::fs::File::create(&log).expect("log file");
        let child = mcprobe(config, &["--time-scale", SCALE])
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start mcprobe watch");
        Watcher { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `cond` until it holds or `WAIT` passes (then fails with `what` and
/// the watcher's log).
fn wait_for(what: &str, w: &Watcher, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; watcher log:\n{}",
            w.log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

// ---- reading the state file -------------------------------------------------

fn db(state: &Path) -> Option<rusqlite::Connection> {
    if !state.exists() {
        return None;
    }
    let c = rusqlite::Connection::open(state).ok()?;
    c.busy_timeout(Duration::from_secs(5)).ok()?;
    Some(c)
}

fn probes(state: &Path) -> u64 {
    db(state)
        .and_then(|c| {
            c.query_row(
                "SELECT probes FROM watch_probes WHERE monitor_id = 'switch'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .ok()
        })
        .map_or(0, |n| n as u64)
}

/// (status, attempts) of every outbox row, in order.
fn outbox(state: &Path) -> Vec<(String, String, String, i64)> {
    let Some(c) = db(state) else {
        return Vec::new();
    };
    let Ok(mut st) = c.prepare(
        "SELECT event, channel_name, status, attempts FROM deliveries ORDER BY at_ms, key",
    ) else {
        return Vec::new();
    };
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}

fn delivered(state: &Path) -> usize {
    outbox(state)
        .iter()
        .filter(|(_, _, s, _)| s == "delivered")
        .count()
}

/// (id, resolved?) of every incident.
fn incidents(state: &Path) -> Vec<(String, bool)> {
    let Some(c) = db(state) else {
        return Vec::new();
    };
    let Ok(mut st) = c.prepare("SELECT id, resolved_at_ms IS NOT NULL FROM incidents") else {
        return Vec::new();
    };
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}

fn paths(rs: &[Received]) -> Vec<String> {
    let mut p: Vec<String> = rs
        .iter()
        .map(|r| r.path.split('/').nth(1).unwrap_or("").to_string())
        .collect();
    p.sort();
    p
}

/// What each channel's body says the event is: trigger or resolve.
fn action(r: &Received) -> String {
    let b = &r.body;
    if r.path.starts_with("/pd/") {
        assert_eq!(r.path, "/pd/v2/enqueue");
        assert_eq!(
            b["routing_key"], PD_KEY,
            "the ${{NAME}} key reached PagerDuty"
        );
        return b["event_action"].as_str().unwrap_or("?").to_string();
    }
    if r.path.starts_with("/og/") {
        assert_eq!(r.authorization.as_deref(), Some("GenieKey OGKEY"));
        return if r.path.contains("/close") {
            "resolve".into()
        } else {
            "trigger".into()
        };
    }
    if r.path == "/webhook" {
        return match b["event"].as_str() {
            Some("incident_opened") => "trigger".into(),
            Some("incident_resolved") => "resolve".into(),
            other => format!("{other:?}"),
        };
    }
    // Slack: Block Kit; the fallback text says which.
    let text = b["text"].as_str().unwrap_or("").to_lowercase();
    assert!(b["blocks"].is_array(), "slack body has blocks: {b}");
    if text.contains("resolved") {
        "resolve".into()
    } else {
        "trigger".into()
    }
}

// ---- the tests ----------------------------------------------------------------

#[test]
fn an_outage_opens_one_incident_and_one_delivery_per_channel() {
    let fleet = Fleet::start_only(&["switch"]).expect("fleet");
    let rx = Receiver::start(0);
    let dir = temp_dir("outage");
    let config = write_config(&dir, &fleet.url("switch"), &all_channels(&rx));
    let state = dir.join("state.sqlite");
    let mut w = Watcher::start(&config, dir.join("watch.log"));

    wait_for("a first passing probe", &w, || probes(&state) >= 1);
    assert_eq!(rx.count(), 0, "a healthy server pages nobody");
    let outage = Instant::now();
    fleet.set_variant("switch", 1);
    wait_for("one delivery per channel", &w, || rx.count() >= 4);
    let detected = outage.elapsed();
    // Keep failing for several more probes: still exactly one page each.
    let p = probes(&state);
    wait_for("three more probes", &w, || probes(&state) >= p + 3);
    wait_for("every delivery recorded", &w, || delivered(&state) == 4);

    let got = rx.received();
    assert_eq!(paths(&got), ["og", "pd", "slack", "webhook"], "{got:?}");
    for r in &got {
        assert_eq!(action(r), "trigger", "{r:?}");
    }
    let hook = got.iter().find(|r| r.path == "/webhook").expect("webhook");
    assert_eq!(hook.body["mode"], "http_error");
    assert_eq!(hook.body["severity"], "P1");
    assert_eq!(
        hook.body["runbook_url"],
        "https://status.example.com/runbook/http_error"
    );
    let rows = outbox(&state);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows
        .iter()
        .all(|(e, _, s, a)| e == "incident_opened" && s == "delivered" && *a == 1));
    let inc = incidents(&state);
    assert_eq!(inc.len(), 1, "{inc:?}");
    assert!(!inc[0].1, "still open");
    // At scale 30, confirmation (+10 s, +20 s) takes about 0.7 s.
    eprintln!("outage to all four deliveries: {detected:?} (time scale {SCALE})");
    assert!(detected < Duration::from_secs(10), "{detected:?}");

    // SIGTERM stops it cleanly.
    let pid = libc::pid_t::try_from(w.child.id()).expect("pid");
    // SAFETY: signalling our own child process by its pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = w.child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "SIGTERM did not stop it");
        std::thread::sleep(Duration::from_millis(25));
    };
    assert!(status.success(), "{status:?}\n{}", w.log());
    assert!(w.log().contains("SIGTERM: stopping"), "{}", w.log());
    w.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_restart_does_not_page_twice_and_recovery_resolves_once_per_channel() {
    let fleet = Fleet::start_only(&["switch"]).expect("fleet");
    fleet.set_variant("switch", 1);
    let rx = Receiver::start(0);
    let dir = temp_dir("restart");
    let config = write_config(&dir, &fleet.url("switch"), &all_channels(&rx));
    let state = dir.join("state.sqlite");

    let mut first = Watcher::start(&config, dir.join("watch-1.log"));
    wait_for("the pages recorded as delivered", &first, || {
        delivered(&state) == 4
    });
    first.kill();
    assert_eq!(rx.count(), 4);

    let second = Watcher::start(&config, dir.join("watch-2.log"));
    let p = probes(&state);
    wait_for("three probes after the restart", &second, || {
        probes(&state) >= p + 3
    });
    assert_eq!(
        rx.count(),
        4,
        "the restart paged again: {:?}",
        rx.received()
    );

    // An acknowledgement from another process reaches the running daemon's
    // policy (it reads the state per probe) and survives its next probes.
    let inc = incidents(&state);
    assert_eq!(inc.len(), 1, "{inc:?}");
    let ack = mcprobe(&config, &["--ack", &inc[0].0])
        .output()
        .expect("--ack");
    assert_eq!(
        ack.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ack.stderr)
    );
    let nope = mcprobe(&config, &["--ack", "switch-1"])
        .output()
        .expect("--ack");
    assert_eq!(nope.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nope.stderr).contains("--status"));
    let p = probes(&state);
    wait_for("two probes after the ack", &second, || {
        probes(&state) >= p + 2
    });
    let acked = db(&state)
        .and_then(|c| {
            c.query_row(
                "SELECT json_extract(state_json, '$.incident.acked_at_ms') FROM alert_state",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .ok()
        })
        .flatten();
    assert!(
        acked.is_some(),
        "the daemon kept the ack in the policy state"
    );

    fleet.set_variant("switch", 0);
    wait_for("one resolve per channel", &second, || rx.count() >= 8);
    let p = probes(&state);
    wait_for("three more probes", &second, || probes(&state) >= p + 3);
    wait_for("the resolves recorded", &second, || delivered(&state) == 8);
    let got = rx.received();
    assert_eq!(got.len(), 8, "{got:?}");
    assert_eq!(paths(&got[4..]), ["og", "pd", "slack", "webhook"]);
    for r in &got[4..] {
        assert_eq!(action(r), "resolve", "{r:?}");
    }
    // PagerDuty's resolve lands on the alert its trigger opened.
    let keys: Vec<&Value> = got
        .iter()
        .filter(|r| r.path.starts_with("/pd/"))
        .map(|r| &r.body["dedup_key"])
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
    let inc = incidents(&state);
    assert_eq!(inc.len(), 1, "{inc:?}");
    assert!(inc[0].1, "resolved");
    // `--status` reads the file beside a running daemon, without its secrets.
    let status = mcprobe(&config, &["--status"])
        .env_remove("WATCH_TEST_PD_KEY")
        .output()
        .expect("--status");
    let text = String::from_utf8_lossy(&status.stdout);
    assert_eq!(status.status.code(), Some(0), "{text}");
    assert!(text.contains("open incidents: 0"), "{text}");
    assert!(text.contains("failed deliveries: 0"), "{text}");
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_receiver_failing_twice_still_gets_the_alert_on_the_third_attempt() {
    let fleet = Fleet::start_only(&["switch"]).expect("fleet");
    fleet.set_variant("switch", 1);
    let rx = Receiver::start(2);
    let dir = temp_dir("retry");
    let alerts = format!("webhook = {{ url = \"{}\" }}", rx.url("/webhook"));
    let config = write_config(&dir, &fleet.url("switch"), &alerts);
    let state = dir.join("state.sqlite");

    // --once follows the fast re-probes, so one run confirms the outage.
    let out = mcprobe(&config, &["--once", "--time-scale", SCALE])
        .output()
        .expect("run --once");
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{log}");
    let got = rx.received();
    assert_eq!(got.len(), 3, "two 500s, then the delivery: {got:?}");
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same body each time"
    );
    assert_eq!(got[0].body["event"], "incident_opened");
    assert_eq!(
        outbox(&state),
        [(
            "incident_opened".to_string(),
            "webhook".to_string(),
            "delivered".to_string(),
            3
        )]
    );
    assert!(log.contains("attempt 2 failed"), "{log}");
    assert!(
        log.contains("delivered incident_opened of switch to webhook"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_delivery_that_keeps_failing_is_recorded_and_shown_by_status() {
    let fleet = Fleet::start_only(&["switch"]).expect("fleet");
    fleet.set_variant("switch", 1);
    let rx = Receiver::start(u32::MAX);
    let dir = temp_dir("failed");
    let alerts = format!("webhook = {{ url = \"{}\" }}", rx.url("/webhook"));
    let config = write_config(&dir, &fleet.url("switch"), &alerts);
    let state = dir.join("state.sqlite");

    let out = mcprobe(&config, &["--once", "--time-scale", SCALE])
        .output()
        .expect("run --once");
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed delivery fails the run: {log}"
    );
    assert_eq!(rx.count(), 4, "MAX_ATTEMPTS attempts");
    assert!(log.contains("delivery FAILED"), "{log}");
    let rows = outbox(&state);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].2.as_str(), rows[0].3), ("failed", 4));

    // A second run does not resend a failed delivery (nor re-page).
    let again = mcprobe(&config, &["--once", "--time-scale", SCALE])
        .output()
        .expect("run --once");
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(rx.count(), 4);

    let status = mcprobe(&config, &["--status"]).output().expect("--status");
    let text = String::from_utf8_lossy(&status.stdout);
    assert_eq!(status.status.code(), Some(0));
    assert!(text.contains("open incidents: 1"), "{text}");
    assert!(text.contains("failed deliveries: 1"), "{text}");
    assert!(text.contains("webhook: 4 attempt(s), HTTP 500"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_config_error_exits_2_with_a_hint_before_probing_anything() {
    let rx = Receiver::start(0);
    let dir = temp_dir("config");
    for (alerts_or_field, needle, hint) in [
        (
            "interval_s = 5".to_string(),
            "interval_s",
            "",
        ),
        (
            format!("headers = {{ Authorization = \"Bearer ${{WATCH_TEST_UNSET}}\" }}\n[monitor.alerts]\nwebhook = {{ url = \"{}\" }}", rx.url("/w")),
            "${WATCH_TEST_UNSET}, which is not set",
            "export WATCH_TEST_UNSET=",
        ),
        (
            "[monitor.alerts]\nslak = { url = \"https://x.example\" }".to_string(),
            "alerts.slak is not a channel name",
            "name it webhook, slack",
        ),
    ] {
        let text = format!(
            "[watch]\nstate = \"state.sqlite\"\n[[monitor]]\nname = \"Target\"\nurl = \"{}\"\n{alerts_or_field}\n",
            rx.url("/mcp")
        );
        let config = dir.join("monitors.toml");
        std::fs::write(&config, text).expect("write");
        let out = mcprobe(&config, &["--once"]).output().expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.starts_with("mcprobe: "), "{err}");
        assert!(err.contains("monitor 1 (\"Target\")"), "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(err.contains(hint), "{hint}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(!dir.join("state.sqlite").exists(), "no state file written");
    }
    // Nothing was probed, nothing sent.
    assert_eq!(rx.count(), 0);
    let missing = mcprobe(&dir.join("nope.toml"), &[]).output().expect("run");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read the config"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn drift_against_the_stored_baseline_is_told_once_until_accepted() {
    let fleet = Fleet::start_only(&["drift"]).expect("fleet");
    let rx = Receiver::start(0);
    let dir = temp_dir("drift");
    let alerts = format!(
        "webhook = {{ url = \"{}\" }}\nslack = {{ url = \"{}\" }}",
        rx.url("/webhook"),
        rx.url("/slack")
    );
    let config = write_config(&dir, &fleet.url("drift"), &alerts);
    let once = || {
        let out = mcprobe(&config, &["--once", "--time-scale", SCALE])
            .output()
            .expect("run --once");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let log = once();
    assert!(log.contains("baseline tool list recorded"), "{log}");
    assert_eq!(rx.count(), 0);

    fleet.set_variant("drift", 1);
    let log = once();
    let got = rx.received();
    // Drift is P3: the webhook takes it, Slack (P2 and up) does not.
    assert_eq!(got.len(), 1, "{got:?}\n{log}");
    assert_eq!(got[0].path, "/webhook");
    assert_eq!(got[0].body["event"], "drift_detected");
    assert_eq!(got[0].body["severity"], "P3");
    // The same changed list again: not told twice.
    once();
    assert_eq!(rx.count(), 1);

    // Accepting it makes the current list the baseline: no drift after.
    let accept = mcprobe(&config, &["--accept-drift", "switch"])
        .output()
        .expect("accept");
    assert_eq!(accept.status.code(), Some(0));
    let log = once();
    assert!(log.contains("baseline tool list recorded"), "{log}");
    fleet.set_variant("drift", 0);
    once();
    let got = rx.received();
    assert_eq!(
        got.len(),
        2,
        "back to the old list is a drift from the new baseline"
    );
    assert_eq!(got[1].body["event"], "drift_detected");
    let _ = std::fs::remove_dir_all(&dir);
}
