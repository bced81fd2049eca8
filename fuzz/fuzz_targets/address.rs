//! The address policy over any URL text and any address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcprobe_core::address::{classify_ip, Policy};

fuzz_target!(|data: &[u8]| {
    if data.len() >= 16 {
        let mut raw = [0u8; 16];
        raw.copy_from_slice(&data[..16]);
        let _ = classify_ip(std::net::Ipv6Addr::from(raw).into());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Policy::PUBLIC.check_str(text);
        let _ = Policy::PUBLIC.check_str(&format!("http://{text}/"));
    }
});
