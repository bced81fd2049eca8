//! The registry page reader over any bytes: no panic, output within its caps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcprobe_registry::{
    parse_page, EndpointSet, MAX_ENTRIES_PER_PAGE, MAX_PROBLEMS_PER_PAGE, MAX_REMOTES_PER_ENTRY,
};

fuzz_target!(|data: &[u8]| {
    let Ok(page) = parse_page(data) else {
        return;
    };
    assert!(page.remotes.len() <= MAX_ENTRIES_PER_PAGE * MAX_REMOTES_PER_ENTRY);
    assert!(page.problems.len() <= MAX_PROBLEMS_PER_PAGE + 1);
    let mut set = EndpointSet::new();
    for r in &page.remotes {
        set.add_remote("fuzz", r);
    }
});
