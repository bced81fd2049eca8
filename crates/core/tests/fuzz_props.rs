//! Start here: property tests (proptest, stable Rust) that throw hostile input
//! at every parser a server or a registry feeds: the SSE parser, the JSON-RPC
//! reader and validator, the fingerprint canonicaliser, the registry page
//! reader and the address policy. Each asserts no panic and output bounded by
//! the input (or by the module's own caps).
//!
//! Case counts are set so the whole set runs in seconds; `PROPTEST_CASES=N`
//! overrides every one of them for a longer hunt.

use mcprobe_core::address::{classify_ip, Policy};
use mcprobe_core::fingerprint::{canonical_json, diff, snapshot};
use mcprobe_core::jsonrpc::{
    excerpt, id_matches, into_reply, is_response, parse_json, pick_response, read_reply,
};
use mcprobe_core::revision::Revision;
use mcprobe_core::sse::SseParser;
use mcprobe_core::validate::{validate_response, Answer};
use proptest::prelude::*;
use serde_json::Value;

#[path = "support/json_strategy.rs"]
mod json_strategy;
use json_strategy::{cases, json, nodes};

/// Bytes with the SSE grammar's own characters over-represented.
fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"data:".to_vec()),
        Just(b"data: ".to_vec()),
        Just(b"event: message".to_vec()),
        Just(b"id: 7".to_vec()),
        Just(b"retry: 10".to_vec()),
        Just(b":comment".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just("é✓".as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 0..16),
    ];
    proptest::collection::vec(piece, 0..64).prop_map(|v| v.concat())
}

const MAX_EVENT: usize = 256;

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn sse_never_panics_and_events_stay_under_the_cap(
        bytes in sse_bytes(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        // The same bytes split anywhere give the same events (or error).
        let mut whole = SseParser::new(MAX_EVENT);
        let one = whole.push(&bytes).and_then(|mut e| { e.extend(whole.finish()?); Ok(e) });
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        at.sort_unstable();
        let mut split = SseParser::new(MAX_EVENT);
        let mut events = Vec::new();
        let mut err = None;
        let mut from = 0;
        for &to in at.iter().chain(std::iter::once(&bytes.len())) {
            match split.push(&bytes[from..to]) {
                Ok(e) => events.extend(e),
                Err(e) => { err = Some(e); break; }
            }
            from = to;
        }
        if err.is_none() {
            match split.finish() {
                Ok(e) => events.extend(e),
                Err(e) => err = Some(e),
            }
        }
        match (one, err) {
            (Ok(a), None) => {
                prop_assert_eq!(&a, &events);
                prop_assert!(a.len() <= bytes.len());
                for e in &a {
                    prop_assert!(e.data.len() <= MAX_EVENT, "{} bytes", e.data.len());
                }
            }
            (Err(a), Some(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "whole {:?} vs split {:?}", a, b),
        }
    }

    #[test]
    fn the_jsonrpc_reader_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_json(&bytes);
        let cut = excerpt(&bytes, 40);
        prop_assert!(cut.chars().count() <= 41);
        prop_assert!(!cut.chars().any(char::is_control));
    }

    #[test]
    fn the_jsonrpc_reader_and_validator_take_any_message(msg in json(), id in 0u64..4) {
        let _ = is_response(&msg);
        let _ = id_matches(&msg, id);
        let _ = read_reply(&msg);
        let _ = pick_response(msg.clone(), id);
        let _ = into_reply(msg.clone());
        let text = msg.to_string();
        prop_assert_eq!(parse_json(text.as_bytes()).ok(), Some(msg.clone()));
        let budget = 8 * nodes(&msg) + 16;
        for rev in Revision::ALL {
            for answer in [Answer::Discover, Answer::Initialize, Answer::ToolsList,
                           Answer::ToolsCall, Answer::ResourcesList, Answer::PromptsList] {
                let v = validate_response(rev, answer, &Value::from(id), &msg);
                prop_assert!(v.len() <= budget, "{} violations for {} nodes", v.len(), nodes(&msg));
                for x in &v {
                    prop_assert!(x.pointer.is_empty() || x.pointer.starts_with('/'));
                    prop_assert!(x.detail.len() <= 4 * text.len() + 512);
                }
            }
        }
    }

    #[test]
    fn canonical_json_is_stable_and_hashes_ignore_order(tools in proptest::collection::vec(json(), 0..6)) {
        for t in &tools {
            let c = canonical_json(t);
            let back: Value = serde_json::from_str(&c).expect("canonical JSON parses");
            prop_assert_eq!(canonical_json(&back), c);
        }
        let a = snapshot(&tools);
        let mut reversed = tools.clone();
        reversed.reverse();
        let b = snapshot(&reversed);
        prop_assert_eq!(&a.hash, &b.hash);
        prop_assert!(diff(&a, &b).changes.is_empty());
        let none = snapshot(&[]);
        let d = diff(&none, &a);
        prop_assert!(d.changes.len() <= 4 * nodes(&Value::Array(tools.clone())) + 4);
    }

    #[test]
    fn the_address_policy_takes_any_url_and_address(url in ".{0,64}", host in "[a-z0-9.:\\[\\]-]{0,40}", raw in any::<[u8; 16]>(), v4 in any::<u32>()) {
        let _ = Policy::PUBLIC.check_str(&url);
        let _ = Policy::PUBLIC.check_str(&format!("http://{host}/mcp"));
        let _ = classify_ip(std::net::Ipv6Addr::from(raw).into());
        let _ = classify_ip(std::net::Ipv4Addr::from(v4).into());
    }
}

/// Found by the `fingerprint` cargo-fuzz target: a decimal longer than an f64
/// holds must parse to the nearest f64, or its canonical text changes when
/// read back (and so would a hash recomputed from a stored definition).
#[test]
fn canonical_json_survives_a_round_trip_of_long_decimals() {
    for text in [
        "-4044444.4444444444449",
        "0.30000000000000004441",
        "1e-400",
        "123456789012345678901234567890",
    ] {
        let v: Value = serde_json::from_str(text).expect("a number");
        let c = canonical_json(&v);
        let back: Value = serde_json::from_str(&c).expect("canonical JSON parses");
        assert_eq!(canonical_json(&back), c, "{text}");
    }
}
