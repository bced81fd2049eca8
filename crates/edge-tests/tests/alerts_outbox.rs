//! Start here: no alert lost when the Worker dies mid-way, under real
//! `wrangler dev`, with the local alert receiver
//! ([`mcprobe_edge_tests::receiver`]) counting what arrives.
//!
//! The Worker's test-only switch `TEST_CRASH_AFTER_STATE` (a `--var`, ignored
//! unless set; see `crates/worker/src/outbox.rs`) ends the invocation that
//! announces an incident at a chosen point, as a crash would:
//!
//! - `1`: right after the batch that writes the policy state ("incident
//!   announced") and the outbox rows. Nothing was sent. The next cron tick's
//!   sweep sends the `pending` delivery: the receiver gets it exactly once,
//!   and later ticks send nothing more.
//! - `claimed`: after the deliveries were claimed (`sending`), before any
//!   was sent. Once the claim's lease has run out (the sweep's clock is the
//!   tick's scheduled time, an hour ahead here), the sweep sends them: the
//!   webhook, answering 500 once, is retried at the next tick as the core's
//!   policy says and delivered; the dead (404) channel fails for good, tried
//!   once.
//!
//! Each story runs on its own `wrangler dev` (the switch is a var).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcprobe_edge_tests::client::{cron_path, Client};
use mcprobe_edge_tests::harness::{self, TestDev};
use mcprobe_edge_tests::receiver::Receiver;
use mcprobe_testkit::Fleet;
use serde_json::{json, Value};

struct Story {
    fleet: Fleet,
    receiver: Receiver,
    dev: TestDev,
    client: Client,
    id: String,
    t0: u64,
}

impl Story {
    /// A Worker with the switch at `crash`, and one monitor of a `switch`
    /// server with the given alert channels (`{r}` is the receiver's URL).
    fn start(tag: &str, crash: &str, channels: impl Fn(&str) -> Value) -> Option<Story> {
        let dev = harness::start(tag, &[("TEST_CRASH_AFTER_STATE", crash)])?;
        let fleet = Fleet::start_only(&["switch"]).expect("a fleet starts");
        let receiver = Receiver::start().expect("the receiver starts");
        let client = Client::new(&dev.url(), Duration::from_secs(90));
        let body = json!({
            "url": fleet.url("switch"),
            "name": tag,
            "public": true,
            "alerts": channels(&receiver.url()),
        });
        let a = client.admin_post("/api/monitors", Some(body));
        assert_eq!(a.status, 201, "{}", a.body);
        let id = a.json()["id"].as_str().unwrap_or_default().to_string();
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        // An hour ahead, as the other alert tests: ticks are fired by hand.
        let t0 = now_ms - now_ms % 60_000 + 60 * 60_000;
        Some(Story {
            fleet,
            receiver,
            dev,
            client,
            id,
            t0,
        })
    }

    fn tick(&self, k: u64) {
        let a = self.client.get(&cron_path(self.t0 + k * 60_000));
        assert_eq!(
            a.status,
            200,
            "tick {k}: {}\n{}",
            a.body,
            self.dev.log_tail(60)
        );
    }

    fn down(&self) {
        self.fleet.set_variant("switch", 1);
    }

    /// The incident's deliveries as `/api/monitors/{id}/incidents` lists them.
    fn deliveries(&self) -> Vec<Value> {
        let a = self
            .client
            .get(&format!("/api/monitors/{}/incidents", self.id));
        assert_eq!(a.status, 200, "{}", a.body);
        a.json()["alerts"]["incidents"][0]["deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn delivery(&self, channel: &str) -> Value {
        self.deliveries()
            .into_iter()
            .find(|d| d["channel_name"] == channel)
            .unwrap_or(Value::Null)
    }
}

#[test]
fn an_invocation_stopped_after_the_state_write_is_delivered_by_the_next_tick_once() {
    let Some(s) = Story::start(
        "outbox-state",
        "1",
        |r| json!({"webhook": {"url": format!("{r}/hook/state")}}),
    ) else {
        return;
    };
    let log = || s.dev.log_tail(80);
    s.tick(0);
    assert!(s.receiver.log().is_empty(), "{:?}", s.receiver.log());

    // Down: the tick confirms the outage (re-probes at +10 s, +20 s), writes
    // "incident announced" with its delivery, and is stopped there.
    s.down();
    s.tick(1);
    assert!(
        s.receiver.log().is_empty(),
        "the switch stops before sending: {:?}",
        s.receiver.log()
    );
    let d = s.delivery("webhook");
    assert_eq!(
        d["status"],
        "pending",
        "the delivery is on record: {d}\n{}",
        log()
    );
    assert_eq!(d["attempts"], 0, "{d}");

    // The next tick's sweep sends it; the policy (already announced) adds
    // nothing.
    s.tick(2);
    let hook = s.receiver.to("/hook/state");
    assert_eq!(hook.len(), 1, "{hook:?}\n{}", log());
    assert_eq!(hook[0].status, 200);
    assert_eq!(
        hook[0].json()["event"],
        "incident_opened",
        "{}",
        hook[0].body
    );
    let d = s.delivery("webhook");
    assert_eq!(d["status"], "delivered", "{d}");
    assert_eq!(d["attempts"], 1, "{d}");
    assert_eq!(d["http_status"], 200, "{d}");

    // And then nothing more.
    s.tick(3);
    s.tick(4);
    assert_eq!(
        s.receiver.to("/hook/state").len(),
        1,
        "{:?}",
        s.receiver.log()
    );
}

#[test]
fn a_delivery_claimed_by_an_invocation_that_died_is_swept_after_its_lease() {
    let Some(s) = Story::start("outbox-claimed", "claimed", |r| {
        json!({
            "webhook": {"url": format!("{r}/hook/claimed")},
            "discord": {"url": format!("{r}/dead/discord")},
        })
    }) else {
        return;
    };
    let log = || s.dev.log_tail(80);
    s.tick(0);
    s.down();
    s.tick(1);
    assert!(s.receiver.log().is_empty(), "{:?}", s.receiver.log());
    for ch in ["webhook", "discord"] {
        let d = s.delivery(ch);
        assert_eq!(
            d["status"],
            "sending",
            "claimed, then the sender died: {d}\n{}",
            log()
        );
        assert_eq!(d["attempts"], 1, "{d}");
    }

    // Past the lease: the sweep takes both. The webhook answers 500 once
    // (retryable: put back for the next tick), the dead channel 404 (final).
    s.receiver.fail_first("/hook/claimed", 1);
    s.tick(2);
    let statuses = |p: &str| -> Vec<u16> { s.receiver.to(p).iter().map(|x| x.status).collect() };
    assert_eq!(statuses("/hook/claimed"), vec![500], "{}", log());
    assert_eq!(statuses("/dead/"), vec![404]);
    let w = s.delivery("webhook");
    assert_eq!(w["status"], "pending", "{w}");
    assert_eq!(w["attempts"], 2, "{w}");
    let dead = s.delivery("discord");
    assert_eq!(dead["status"], "failed", "{dead}");
    assert_eq!(dead["http_status"], 404, "{dead}");

    // The retry is due by the next tick: delivered.
    s.tick(3);
    assert_eq!(statuses("/hook/claimed"), vec![500, 200], "{}", log());
    let w = s.delivery("webhook");
    assert_eq!(w["status"], "delivered", "{w}");
    assert_eq!(w["attempts"], 3, "{w}");

    // Nothing more: one success, the dead channel tried once.
    s.tick(4);
    assert_eq!(statuses("/hook/claimed"), vec![500, 200]);
    assert_eq!(statuses("/dead/"), vec![404]);
}
