//! The SSE parser over any bytes, cut into chunks where the input says: no
//! panic, every event under the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcprobe_core::sse::SseParser;

const MAX_EVENT: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&step, bytes)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let mut parser = SseParser::new(MAX_EVENT);
    for chunk in bytes.chunks(step) {
        match parser.push(chunk) {
            Ok(events) => {
                for e in events {
                    assert!(e.data.len() <= MAX_EVENT);
                }
            }
            Err(_) => return,
        }
    }
    let _ = parser.finish();
});
