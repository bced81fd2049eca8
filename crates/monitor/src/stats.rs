//! Start here: figures over a monitor's probe history: uptime over a window
//! and latency percentiles. Pure functions over samples (time passed in), so
//! the Worker, the CLI's `watch` and the tests compute them the same way.

use mcprobe_core::verdict::Status;

/// One probe in the history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub status: Status,
    pub elapsed_ms: u64,
}

/// The share of probes in `[now - window, now]` whose status was up
/// (degraded counts as up: the server answered), `None` when there were none.
pub fn uptime(samples: &[Sample], now_ms: u64, window_ms: u64) -> Option<f64> {
    let since = now_ms.saturating_sub(window_ms);
    let (mut total, mut up) = (0u64, 0u64);
    for s in samples
        .iter()
        .filter(|s| s.at_ms >= since && s.at_ms <= now_ms)
    {
        total += 1;
        if s.status != Status::Down {
            up += 1;
        }
    }
    (total > 0).then(|| up as f64 / total as f64)
}

/// The `p`-th percentile (0..=100, nearest rank) of some values; `None` when empty.
pub fn percentile(values: &mut [u64], p: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = ((p.clamp(0.0, 100.0) / 100.0) * values.len() as f64).ceil() as usize;
    Some(values[rank.saturating_sub(1).min(values.len() - 1)])
}

/// p50 and p95 latency of the probes that reached the server in a window.
pub fn latency(samples: &[Sample], now_ms: u64, window_ms: u64) -> Option<(u64, u64)> {
    let since = now_ms.saturating_sub(window_ms);
    let mut ms: Vec<u64> = samples
        .iter()
        .filter(|s| s.at_ms >= since && s.at_ms <= now_ms && s.status != Status::Down)
        .map(|s| s.elapsed_ms)
        .collect();
    Some((percentile(&mut ms, 50.0)?, percentile(&mut ms, 95.0)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(at_ms: u64, status: Status, elapsed_ms: u64) -> Sample {
        Sample {
            at_ms,
            status,
            elapsed_ms,
        }
    }

    #[test]
    fn uptime_counts_only_the_window() {
        let h = [
            s(0, Status::Down, 0),
            s(100, Status::Up, 10),
            s(200, Status::Degraded, 20),
            s(300, Status::Down, 0),
        ];
        assert_eq!(uptime(&h, 300, 250), Some(2.0 / 3.0));
        assert_eq!(uptime(&h, 300, 1_000), Some(0.5));
        assert_eq!(uptime(&h, 10_000, 100), None);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&mut v, 50.0), Some(50));
        assert_eq!(percentile(&mut v, 95.0), Some(95));
        assert_eq!(percentile(&mut [7], 95.0), Some(7));
        assert_eq!(percentile(&mut [], 50.0), None);
        let h = [
            s(1, Status::Up, 30),
            s(2, Status::Up, 10),
            s(3, Status::Down, 9_999),
            s(4, Status::Up, 20),
        ];
        assert_eq!(latency(&h, 4, 10), Some((20, 30)));
    }
}
