//! Start here: [`baseline_file_name`], where a scan keeps an endpoint's tool
//! snapshot (named by the normalised URL, so two spellings share one file).

use mcprobe_core::fingerprint::sha256_tag;

/// The file a scan keeps an endpoint's tool snapshot in: the SHA-256 of its
/// normalised URL, so any spelling of one endpoint finds the same file and no
/// URL character reaches the file system.
pub fn baseline_file_name(normalised_url: &str) -> String {
    let tag = sha256_tag(normalised_url.as_bytes());
    format!("{}.json", tag.trim_start_matches("sha256:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_names_are_hex_of_the_normalised_url() {
        let a = baseline_file_name("https://example.com/mcp");
        assert_eq!(a.len(), 64 + 5);
        assert!(a.ends_with(".json"));
        assert!(a[..64].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, baseline_file_name("https://example.com/mcp2"));
    }
}
