//! Property tests for the registry page reader: any shape, any bytes, read
//! within the reader's bounds and never a panic.

use mcprobe_registry::{
    parse_page, MAX_ENTRIES_PER_PAGE, MAX_PROBLEMS_PER_PAGE, MAX_REMOTES_PER_ENTRY,
};
use proptest::prelude::*;
use serde_json::Value;

#[path = "../../core/tests/support/json_strategy.rs"]
mod json_strategy;
use json_strategy::{cases, json};

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn registry_pages_of_any_shape_are_read_within_bounds(doc in json(), servers in proptest::collection::vec(json(), 0..12)) {
        let mut page = doc;
        if let Value::Object(o) = &mut page {
            o.insert("servers".into(), Value::Array(servers));
        }
        let body = page.to_string();
        if let Ok(p) = parse_page(body.as_bytes()) {
            prop_assert!(p.remotes.len() <= MAX_ENTRIES_PER_PAGE * MAX_REMOTES_PER_ENTRY);
            prop_assert!(p.problems.len() <= MAX_PROBLEMS_PER_PAGE + 1);
            for line in &p.problems {
                prop_assert!(line.chars().count() <= 600, "{}", line);
            }
            prop_assert!(p.deleted + p.superseded <= p.servers);
        }
    }

    #[test]
    fn registry_pages_take_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_page(&bytes);
    }
}
