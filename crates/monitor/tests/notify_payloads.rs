//! Start here: every alert channel's payload against the shape its
//! documentation gives.
//!
//! `tests/fixtures/notify/<channel>.schema.json` writes each channel's
//! documented shape down as a JSON Schema (required keys, types, enums, length
//! and count limits; the `$comment` says where each limit comes from), and every
//! event kind is built for every channel and validated against it. The limits a
//! schema cannot express (Discord's 6000 characters per embed, Opsgenie's 8000
//! characters of details) are checked here. Golden files pin the exact JSON of
//! an open and a resolve per channel; refresh them with `UPDATE_GOLDEN=1` and
//! review the diff.

use std::path::PathBuf;

use mcprobe_core::fingerprint::{Change, Drift};
use mcprobe_core::runbook;
use mcprobe_core::verdict::{Mode, Severity, Status};
use mcprobe_monitor::notify::{
    self, discord, incident_dedup_key, opsgenie, pagerduty, slack, webhook, Channel, NotifyContext,
};
use mcprobe_monitor::policy::{
    EscalationCause, Event, EventKind, Observation, Policy, PolicyConfig, VerdictSummary,
};
use serde_json::Value;

/// 2026-01-01T00:00:00Z.
const T0: u64 = 1_767_225_600_000;
const ROUTING_KEY: &str = "R0UT1NGKEY0123456789abcdefabcdef";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/notify")
}

fn schema(name: &str) -> jsonschema::Validator {
    let path = fixtures().join(format!("{name}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    jsonschema::options()
        .build(&doc)
        .unwrap_or_else(|e| panic!("{path:?} does not compile: {e}"))
}

fn assert_valid(validator: &jsonschema::Validator, body: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} breaks its documented shape:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(body).unwrap_or_default()
    );
}

fn ctx() -> NotifyContext {
    NotifyContext {
        monitor_name: "Weather MCP".into(),
        url: "https://weather.example.com/mcp".into(),
        server_name: Some("weather-server".into()),
        public_base: "https://status.example.com".into(),
        runbook_url: None,
    }
}

fn incident_id() -> String {
    format!("m1-{T0}")
}

fn summary(secs: u64) -> VerdictSummary {
    VerdictSummary {
        at_ms: T0 + secs * 1000,
        status: Status::Down,
        mode: Mode::ConnectRefused,
        severity: Severity::P1,
        reason: "Connection refused by 203.0.113.7:443.".into(),
        elapsed_ms: 12,
    }
}

fn event(at_secs: u64, severity: Severity, kind: EventKind) -> Event {
    Event {
        at_ms: T0 + at_secs * 1000,
        monitor_id: "m1".into(),
        severity,
        kind,
    }
}

fn opened() -> Event {
    event(
        20,
        Severity::P1,
        EventKind::IncidentOpened {
            id: incident_id(),
            mode: Mode::ConnectRefused,
            reason: "Connection refused by 203.0.113.7:443.".into(),
            hint: runbook::hint(Mode::ConnectRefused).into(),
            started_at_ms: T0,
            last_verdicts: vec![summary(0), summary(10), summary(20)],
        },
    )
}

fn resolved() -> Event {
    event(
        360,
        Severity::P1,
        EventKind::IncidentResolved {
            id: incident_id(),
            mode: Mode::ConnectRefused,
            started_at_ms: T0,
            ended_at_ms: T0 + 300_000,
            duration_ms: 300_000,
        },
    )
}

fn escalated() -> Event {
    event(
        1820,
        Severity::P1,
        EventKind::Escalated {
            id: incident_id(),
            from: Severity::P2,
            cause: EscalationCause::Unacknowledged,
            mode: Mode::HandshakeFailed,
            reason: "initialize answered HTML.".into(),
            hint: runbook::hint(Mode::HandshakeFailed).into(),
            started_at_ms: T0,
            last_verdicts: vec![summary(1800)],
        },
    )
}

fn flapping() -> Event {
    event(
        900,
        Severity::P2,
        EventKind::Flapping {
            changes: 5,
            window_ms: 1_800_000,
            incident_id: None,
            mode: Some(Mode::HttpError),
            reason: Some("HTTP 502 Bad Gateway.".into()),
        },
    )
}

fn stable() -> Event {
    event(
        4500,
        Severity::P2,
        EventKind::Stable {
            flapping_since_ms: T0 + 900_000,
            quiet_for_ms: 900_000,
            up: true,
        },
    )
}

fn drifted() -> Event {
    event(
        300,
        Severity::P3,
        EventKind::DriftDetected {
            diff: Drift {
                breaking: true,
                from_hash: "sha256:aaaa".into(),
                to_hash: "sha256:bbbb".into(),
                changes: vec![
                    Change::ToolRemoved {
                        tool: "search".into(),
                    },
                    Change::ParamAdded {
                        tool: "forecast".into(),
                        param: "days".into(),
                        required: true,
                    },
                ],
            },
        },
    )
}

fn digest() -> Event {
    let mut held_open = opened();
    held_open.severity = Severity::P2;
    let mut held_resolved = resolved();
    held_resolved.severity = Severity::P2;
    event(
        21_600,
        Severity::P2,
        EventKind::Digest {
            items: vec![held_open, held_resolved, drifted()],
            dropped: 0,
        },
    )
}

fn all_events() -> Vec<Event> {
    vec![
        opened(),
        resolved(),
        escalated(),
        flapping(),
        stable(),
        drifted(),
        digest(),
    ]
}

/// A reason written by an attacker who controls the probed server.
fn hostile() -> String {
    let mut r = String::from(
        "<!channel> <https://evil.example|click here> & @everyone @here [fix](https://evil.example) \
         *bold* `code` ||spoiler|| </script>\"quoted\"\n\u{0}\u{202e}😀",
    );
    r.push_str(&"A".repeat(20_000));
    r
}

fn hostile_opened() -> Event {
    let mut ev = opened();
    if let EventKind::IncidentOpened { reason, .. } = &mut ev.kind {
        *reason = hostile();
    }
    ev
}

fn hostile_ctx() -> NotifyContext {
    NotifyContext {
        monitor_name: format!("<!here> [m](https://evil.example) {}", "N".repeat(500)),
        url: format!("https://weather.example.com/{}", "p".repeat(5000)),
        server_name: Some(format!("@everyone <@123> {}", "S".repeat(3000))),
        ..ctx()
    }
}

#[test]
fn every_event_fits_every_channels_documented_shape() {
    let slack_schema = schema("slack");
    let discord_schema = schema("discord");
    let pd_schema = schema("pagerduty");
    let og_create = schema("opsgenie-create");
    let og_close = schema("opsgenie-close");
    let hook = schema("webhook");
    let mut events = all_events();
    events.push(hostile_opened());
    for ctx in [ctx(), hostile_ctx()] {
        for ev in &events {
            let what = format!("{} ({})", ev.kind.code(), ctx.monitor_name.len());
            assert_valid(&slack_schema, &slack(ev, &ctx), &format!("slack {what}"));
            let d = discord(ev, &ctx);
            assert_valid(&discord_schema, &d, &format!("discord {what}"));
            assert!(
                discord_embed_total(&d) <= notify::limits::DISCORD_EMBED_TOTAL,
                "discord {what}: {} characters in one embed",
                discord_embed_total(&d)
            );
            let pd = pagerduty(ev, &ctx, ROUTING_KEY);
            assert_eq!((pd.method, pd.path.as_str()), ("POST", "/v2/enqueue"));
            assert_valid(&pd_schema, &pd.body, &format!("pagerduty {what}"));
            let og = opsgenie(ev, &ctx);
            assert_eq!(og.method, "POST");
            if og.path == "/v2/alerts" {
                assert_valid(&og_create, &og.body, &format!("opsgenie create {what}"));
                assert!(
                    opsgenie_details_total(&og.body) <= notify::limits::OPSGENIE_DETAILS_TOTAL,
                    "opsgenie {what}: details too long"
                );
            } else {
                assert!(
                    og.path.ends_with("/close?identifierType=alias"),
                    "{}",
                    og.path
                );
                assert_valid(&og_close, &og.body, &format!("opsgenie close {what}"));
            }
            assert_valid(&hook, &webhook(ev, &ctx), &format!("webhook {what}"));
        }
    }
}

/// Discord counts title, description, field names and values, footer text
/// and author name of all embeds of a message together.
fn discord_embed_total(body: &Value) -> usize {
    let n = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    body["embeds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            n(&e["title"])
                + n(&e["description"])
                + n(&e["footer"]["text"])
                + n(&e["author"]["name"])
                + e["fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|f| n(&f["name"]) + n(&f["value"]))
                    .sum::<usize>()
        })
        .sum()
}

fn opsgenie_details_total(body: &Value) -> usize {
    body["details"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| k.chars().count() + v.as_str().map_or(0, |s| s.chars().count()))
        .sum()
}

#[test]
fn pagerduty_dedup_key_is_stable_across_trigger_escalation_and_resolve() {
    let trigger = pagerduty(&opened(), &ctx(), ROUTING_KEY).body;
    let escalate = pagerduty(&escalated(), &ctx(), ROUTING_KEY).body;
    let resolve = pagerduty(&resolved(), &ctx(), ROUTING_KEY).body;
    let key = incident_dedup_key("m1", &incident_id());
    assert_eq!(key, format!("mcprobe:m1:m1-{T0}"));
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(escalate["event_action"], "trigger");
    assert_eq!(resolve["event_action"], "resolve");
    for body in [&trigger, &escalate, &resolve] {
        assert_eq!(body["dedup_key"], key.as_str());
        assert_eq!(body["routing_key"], ROUTING_KEY);
    }
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "weather.example.com");
    assert_eq!(trigger["payload"]["class"], "connect_refused");
    assert_eq!(
        trigger["links"][0]["href"],
        "https://status.example.com/runbook/connect_refused"
    );
    // The same incident from a real policy run keys the same way.
    let mut p = Policy::new(PolicyConfig::new("m1"));
    let refused = Observation::of(Mode::ConnectRefused, "refused");
    let mut from_policy = Vec::new();
    for t in [0, 10, 20] {
        from_policy.extend(p.observe(&refused, T0 + t * 1000));
    }
    for t in [300, 360] {
        from_policy.extend(p.observe(&Observation::ok(), T0 + t * 1000));
    }
    let keys: Vec<Value> = from_policy
        .iter()
        .map(|e| pagerduty(e, &ctx(), ROUTING_KEY).body["dedup_key"].clone())
        .collect();
    assert_eq!(keys, vec![Value::from(key.clone()), Value::from(key)]);
}

#[test]
fn pagerduty_severities_follow_ours() {
    let sev = |s: Severity| {
        let mut ev = opened();
        ev.severity = s;
        pagerduty(&ev, &ctx(), ROUTING_KEY).body["payload"]["severity"].clone()
    };
    assert_eq!(sev(Severity::P1), "critical");
    assert_eq!(sev(Severity::P2), "error");
    assert_eq!(sev(Severity::P3), "warning");
    assert_eq!(sev(Severity::None), "info");
}

#[test]
fn opsgenie_creates_with_an_alias_and_closes_by_it() {
    let create = opsgenie(&opened(), &ctx());
    let close = opsgenie(&resolved(), &ctx());
    let alias = incident_dedup_key("m1", &incident_id());
    assert_eq!(
        (create.method, create.path.as_str()),
        ("POST", "/v2/alerts")
    );
    assert_eq!(create.body["alias"], alias.as_str());
    assert_eq!(create.body["priority"], "P1");
    assert_eq!(close.method, "POST");
    assert_eq!(
        close.path,
        format!("/v2/alerts/mcprobe%3Am1%3Am1-{T0}/close?identifierType=alias")
    );
    assert_eq!(close.body["source"], "mcprobe");
    let tags: Vec<&str> = create.body["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(tags.contains(&"mode:connect_refused"), "{tags:?}");
    let mut p2 = opened();
    p2.severity = Severity::P2;
    assert_eq!(opsgenie(&p2, &ctx()).body["priority"], "P2");
}

#[test]
fn generic_webhook_carries_the_runbook_url_and_the_incident() {
    let body = webhook(&opened(), &ctx());
    assert_eq!(body["schema"], "mcprobe.alert/v1");
    assert_eq!(body["event"], "incident_opened");
    assert_eq!(
        body["runbook_url"],
        "https://status.example.com/runbook/connect_refused"
    );
    assert_eq!(body["mode"], "connect_refused");
    assert_eq!(body["reason"], "Connection refused by 203.0.113.7:443.");
    assert_eq!(body["hint"], runbook::hint(Mode::ConnectRefused));
    assert_eq!(body["started_at"], "2026-01-01T00:00:00Z");
    assert_eq!(body["at"], "2026-01-01T00:00:20Z");
    assert_eq!(body["last_verdicts"].as_array().map(Vec::len), Some(3));
    assert_eq!(body["last_verdicts"][2]["at"], "2026-01-01T00:00:20Z");

    // A monitor's own runbook replaces ours.
    let own = NotifyContext {
        runbook_url: Some("https://wiki.example.com/weather-runbook".into()),
        ..ctx()
    };
    assert_eq!(
        webhook(&opened(), &own)["runbook_url"],
        "https://wiki.example.com/weather-runbook"
    );
    // The drift points at the drift runbook and carries the diff.
    let d = webhook(&drifted(), &ctx());
    assert_eq!(
        d["runbook_url"],
        "https://status.example.com/runbook/schema_drift"
    );
    assert_eq!(d["drift"]["changes"][0]["kind"], "tool_removed");
    assert_eq!(d["severity"], "P3");
    // The digest lists what was held, each item a full payload.
    let g = webhook(&digest(), &ctx());
    assert_eq!(g["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(g["items"][0]["event"], "incident_opened");
}

#[test]
fn server_text_is_data_in_every_channel() {
    let ev = hostile_opened();
    let ctx = hostile_ctx();

    let sl = slack(&ev, &ctx);
    // Slack parses mentions and links in mrkdwn and in the fallback `text`
    // (plain_text, like the header, is shown as typed): there, no `<` or `>`
    // of the server's may survive unescaped.
    let mut parsed = vec![sl["text"].as_str().unwrap_or_default().to_string()];
    collect_mrkdwn(&sl, &mut parsed);
    assert!(parsed.len() >= 5, "{parsed:?}");
    for text in &parsed {
        assert!(
            !text.contains('<') && !text.contains('>'),
            "unescaped: {text:.200}"
        );
    }
    assert!(parsed.iter().any(|t| t.contains("&lt;!channel&gt;")));
    assert!(parsed.iter().any(|t| t.contains("&lt;!here&gt;")));

    let d = discord(&ev, &ctx);
    assert_eq!(d["allowed_mentions"]["parse"], serde_json::json!([]));
    let dt = d.to_string();
    assert!(
        !dt.contains("[fix](https"),
        "masked link survived: {dt:.300}"
    );
    assert!(dt.contains(r"\\[fix\\]"), "{dt:.300}");
    assert!(dt.contains(r"\\@everyone"), "{dt:.300}");

    let pd = pagerduty(&ev, &ctx, ROUTING_KEY).body;
    let summary = pd["payload"]["summary"].as_str().unwrap_or_default();
    assert!(summary.chars().count() <= notify::limits::PAGERDUTY_SUMMARY);
    assert!(summary.ends_with('…'), "cut summaries say so");
    let og = opsgenie(&ev, &ctx).body;
    assert!(og["message"].as_str().unwrap_or_default().chars().count() <= 130);

    // Everything still parses back as JSON (serde escaped the NUL, the quote,
    // the bidi override).
    for body in [sl, d, pd, og, webhook(&ev, &ctx)] {
        let text = serde_json::to_string(&body).expect("serialises");
        let back: Value = serde_json::from_str(&text).expect("parses back");
        assert_eq!(back, body);
    }
}

/// Every `text` of a `{"type": "mrkdwn"}` object in a Slack body.
fn collect_mrkdwn(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("mrkdwn") {
                if let Some(t) = o.get("text").and_then(Value::as_str) {
                    out.push(t.to_string());
                }
            }
            o.values().for_each(|x| collect_mrkdwn(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_mrkdwn(x, out)),
        _ => {}
    }
}

#[test]
fn slack_message_has_header_fields_context_and_a_runbook_button() {
    let body = slack(&opened(), &ctx());
    let blocks = body["blocks"].as_array().cloned().unwrap_or_default();
    let types: Vec<&str> = blocks.iter().filter_map(|b| b["type"].as_str()).collect();
    assert_eq!(
        types,
        vec!["header", "section", "section", "context", "actions"]
    );
    assert_eq!(
        blocks[0]["text"]["text"],
        "🔴 [P1] Weather MCP: Nothing is listening"
    );
    let fields = blocks[1]["fields"].as_array().map(Vec::len).unwrap_or(0);
    assert!((4..=10).contains(&fields), "{fields} fields");
    let button = &blocks[4]["elements"][0];
    assert_eq!(button["type"], "button");
    assert_eq!(
        button["url"],
        "https://status.example.com/runbook/connect_refused"
    );
    assert_eq!(button["style"], "danger");
    // Without a usable runbook URL there is no button (Slack rejects a bad one).
    let no_base = NotifyContext {
        public_base: String::new(),
        ..ctx()
    };
    let plain = slack(&opened(), &no_base);
    assert!(!plain.to_string().contains("\"actions\""));
}

#[test]
fn discord_colour_follows_severity_and_resolves_are_green() {
    let colour = |ev: &Event| discord(ev, &ctx())["embeds"][0]["color"].as_u64();
    let mut p2 = opened();
    p2.severity = Severity::P2;
    let mut p3 = opened();
    p3.severity = Severity::P3;
    let colours = [
        colour(&opened()),
        colour(&p2),
        colour(&p3),
        colour(&resolved()),
    ];
    for (i, a) in colours.iter().enumerate() {
        assert!(a.is_some());
        for b in &colours[i + 1..] {
            assert_ne!(a, b, "{colours:?}");
        }
    }
    let embed = &discord(&opened(), &ctx())["embeds"][0];
    assert_eq!(embed["timestamp"], "2026-01-01T00:00:20Z");
    assert_eq!(
        embed["url"],
        "https://status.example.com/runbook/connect_refused"
    );
}

#[test]
fn routing_defaults_page_only_for_p1() {
    let takes = |c: Channel, s: Severity| Channel::takes(c.default_min_severity(), s);
    assert!(takes(Channel::Pagerduty, Severity::P1));
    assert!(!takes(Channel::Pagerduty, Severity::P2));
    assert!(!takes(Channel::Opsgenie, Severity::P3));
    assert!(takes(Channel::Slack, Severity::P2));
    assert!(!takes(Channel::Discord, Severity::P3));
    assert!(takes(Channel::Webhook, Severity::P3));
    assert!(!takes(Channel::Webhook, Severity::None));
}

/// The exact JSON of an open and a resolve on every channel.
#[test]
fn golden_payloads() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let cases: Vec<(&str, Value)> = vec![
        ("webhook-opened", webhook(&opened(), &ctx())),
        ("webhook-resolved", webhook(&resolved(), &ctx())),
        ("slack-opened", slack(&opened(), &ctx())),
        ("slack-resolved", slack(&resolved(), &ctx())),
        ("discord-opened", discord(&opened(), &ctx())),
        ("discord-resolved", discord(&resolved(), &ctx())),
        (
            "pagerduty-trigger",
            pagerduty(&opened(), &ctx(), ROUTING_KEY).body,
        ),
        (
            "pagerduty-resolve",
            pagerduty(&resolved(), &ctx(), ROUTING_KEY).body,
        ),
        ("opsgenie-create", opsgenie(&opened(), &ctx()).body),
        ("opsgenie-close", opsgenie(&resolved(), &ctx()).body),
    ];
    let mut stale = Vec::new();
    for (name, body) in cases {
        let path = fixtures().join(format!("{name}.golden.json"));
        let text = serde_json::to_string_pretty(&body).expect("serialises") + "\n";
        if update {
            std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path:?}: {e} (run with UPDATE_GOLDEN=1)"));
        if want != text {
            stale.push(format!("{name}:\n{text}"));
        }
    }
    assert!(
        stale.is_empty(),
        "payloads differ from the golden files (UPDATE_GOLDEN=1 to refresh):\n{}",
        stale.join("\n")
    );
}
