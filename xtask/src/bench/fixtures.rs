//! What the bench's tests share: hot_path.rs's printed output and exit
//! statuses.

use std::process::ExitStatus;

/// hot_path.rs's output as printed on the CI box.
pub(super) const HOT_PATH_OUT: &str = "\
validate + fingerprint of a tools/list answer (native, release)
 tools  validate µs  fingerprint µs     both µs  both p95           target
    10          1.1            10.5        11.9      12.2
   100          4.9           116.4       121.6     132.7 < 100 µs: MISSED
  1000         64.9          1338.2      1371.2    1718.5
";

#[cfg(unix)]
pub(super) fn exit(code: i32) -> ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    ExitStatus::from_raw(code << 8)
}
