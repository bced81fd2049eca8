//! The JSON-RPC reader and the strict validator over any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcprobe_core::jsonrpc::{excerpt, into_reply, parse_json, read_reply};
use mcprobe_core::revision::Revision;
use mcprobe_core::validate::{validate_response, Answer};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    assert!(excerpt(data, 80).chars().count() <= 81);
    let Ok(msg) = parse_json(data) else {
        return;
    };
    let _ = read_reply(&msg);
    for rev in Revision::ALL {
        for answer in [
            Answer::Discover,
            Answer::Initialize,
            Answer::ToolsList,
            Answer::ToolsCall,
            Answer::ResourcesList,
            Answer::PromptsList,
        ] {
            let _ = validate_response(rev, answer, &Value::from(1), &msg);
        }
    }
    let _ = into_reply(msg);
});
