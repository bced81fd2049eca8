//! Start here: [`Audit`], the aggregates of a scan: share per mode and per
//! registry, the loud / quiet / passing split ([`Bucket`]), p50/p95 latency,
//! the slowest and most common failures, and the drift seen.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use mcprobe_core::verdict::{Mode, Status, Verdict};

/// The loud failures: the server is visibly down, any uptime check sees it.
pub const LOUD: [Mode; 6] = [
    Mode::DnsUnresolved,
    Mode::ConnectRefused,
    Mode::TlsError,
    Mode::Timeout,
    Mode::PlatformAsleep,
    Mode::HttpError,
];

/// The quiet failures: something answers, but MCP does not work (or changed);
/// only a protocol-aware probe sees them.
pub const QUIET: [Mode; 7] = [
    Mode::RouteMoved,
    Mode::AuthHalfConfigured,
    Mode::MalformedJsonrpc,
    Mode::SchemaDrift,
    Mode::HandshakeFailed,
    Mode::ToolsListFailed,
    Mode::ToolCallError,
];

/// Which side of the loud / quiet split a verdict's mode falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Loud,
    Quiet,
    /// `ok` and `auth_required`: working as intended.
    Passing,
}

impl Bucket {
    pub fn of(mode: Mode) -> Bucket {
        if LOUD.contains(&mode) {
            Bucket::Loud
        } else if QUIET.contains(&mode) {
            Bucket::Quiet
        } else {
            Bucket::Passing
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Loud => "loud",
            Bucket::Quiet => "quiet",
            Bucket::Passing => "passing",
        }
    }

    /// The modes of this bucket that a verdict can have.
    pub fn modes(self) -> Vec<Mode> {
        match self {
            Bucket::Loud => LOUD.to_vec(),
            Bucket::Quiet => QUIET.to_vec(),
            Bucket::Passing => vec![Mode::Ok, Mode::AuthRequired],
        }
    }
}

/// How many endpoints ended in one mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeShare {
    pub mode: Mode,
    pub count: u64,
    /// Of the endpoints probed (in that registry, for a registry's table).
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketShare {
    pub bucket: Bucket,
    pub modes: Vec<Mode>,
    pub count: u64,
    pub share: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub up: u64,
    pub degraded: u64,
    pub down: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryShare {
    pub registry: String,
    pub probed: u64,
    /// Loud or quiet.
    pub failing: u64,
    pub failing_share: f64,
    pub modes: Vec<ModeShare>,
}

/// Latency percentiles (nearest rank) in milliseconds; `None` with no sample.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    /// Over every probe, failures included (a timeout counts its full wait).
    pub p50: Option<u64>,
    pub p95: Option<u64>,
    /// Over the probes whose server answered (status up or degraded).
    pub answered_p50: Option<u64>,
    pub answered_p95: Option<u64>,
}

/// One endpoint worth naming in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notable {
    pub url: String,
    pub mode: Mode,
    pub elapsed_ms: u64,
    pub reason: String,
}

/// A failure mode, how common it is, and one example of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommonFailure {
    pub mode: Mode,
    pub bucket: Bucket,
    pub count: u64,
    pub share: f64,
    pub example_url: String,
    pub example_reason: String,
}

/// A tool list that changed since the last scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftNote {
    pub url: String,
    pub breaking: bool,
    pub changes: usize,
}

/// The aggregates of a scan (`report.json`'s `audit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub probed: u64,
    pub status: StatusCounts,
    /// Most common first; modes nobody got are left out.
    pub modes: Vec<ModeShare>,
    /// Loud, quiet, passing, always all three.
    pub buckets: Vec<BucketShare>,
    pub registries: Vec<RegistryShare>,
    pub latency_ms: Latency,
    /// Slowest probes first (at most [`Audit::TOP`]).
    pub slowest: Vec<Notable>,
    /// Loud and quiet modes, most common first.
    pub common_failures: Vec<CommonFailure>,
    /// Endpoints whose tool list drifted, breaking first.
    pub drift: Vec<DriftNote>,
}

/// Accumulates verdicts into an [`AuditReport`].
#[derive(Debug, Clone, Default)]
pub struct Audit {
    seen: Vec<Notable>,
    status: StatusCounts,
    modes: BTreeMap<Mode, u64>,
    examples: BTreeMap<Mode, (String, String)>,
    registries: BTreeMap<String, BTreeMap<Mode, u64>>,
    registry_order: Vec<String>,
    answered_ms: Vec<u64>,
    drift: Vec<DriftNote>,
}

fn share(count: u64, of: u64) -> f64 {
    if of == 0 {
        return 0.0;
    }
    // Four decimals: enough for a percentage with two, stable in JSON.
    ((count as f64 / of as f64) * 10_000.0).round() / 10_000.0
}

fn ranked(counts: &BTreeMap<Mode, u64>, of: u64) -> Vec<ModeShare> {
    let mut v: Vec<ModeShare> = counts
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(&mode, &count)| ModeShare {
            mode,
            count,
            share: share(count, of),
        })
        .collect();
    // Most common first; ties in ladder order (the map's order, kept by a stable sort).
    v.sort_by_key(|m| std::cmp::Reverse(m.count));
    v
}

impl Audit {
    /// How many endpoints the slowest list names.
    pub const TOP: usize = 10;

    pub fn new() -> Audit {
        Audit::default()
    }

    /// Counts one probed endpoint, listed by `registries`.
    pub fn add(&mut self, v: &Verdict, registries: &[String]) {
        match v.status {
            Status::Up => self.status.up += 1,
            Status::Degraded => self.status.degraded += 1,
            Status::Down => self.status.down += 1,
        }
        *self.modes.entry(v.mode).or_default() += 1;
        if Bucket::of(v.mode) != Bucket::Passing {
            self.examples
                .entry(v.mode)
                .or_insert_with(|| (v.url.clone(), v.reason.clone()));
        }
        for r in registries {
            if !self.registries.contains_key(r) {
                self.registry_order.push(r.clone());
            }
            *self
                .registries
                .entry(r.clone())
                .or_default()
                .entry(v.mode)
                .or_default() += 1;
        }
        if v.status != Status::Down {
            self.answered_ms.push(v.elapsed_ms);
        }
        // A verdict compared with a baseline carries `drift` even when
        // nothing changed; only a change is worth a line.
        if let Some(d) = v
            .drift
            .as_ref()
            .filter(|d| d.from_hash != d.to_hash || !d.changes.is_empty())
        {
            self.drift.push(DriftNote {
                url: v.url.clone(),
                breaking: d.breaking,
                changes: d.changes.len(),
            });
        }
        self.seen.push(Notable {
            url: v.url.clone(),
            mode: v.mode,
            elapsed_ms: v.elapsed_ms,
            reason: v.reason.clone(),
        });
    }

    /// Endpoints counted so far.
    pub fn probed(&self) -> u64 {
        self.seen.len() as u64
    }

    /// Counts per mode so far (for a progress line).
    pub fn mode_counts(&self) -> Vec<(Mode, u64)> {
        ranked(&self.modes, 1)
            .into_iter()
            .map(|m| (m.mode, m.count))
            .collect()
    }

    pub fn report(&self) -> AuditReport {
        let probed = self.probed();
        let mut all_ms: Vec<u64> = self.seen.iter().map(|n| n.elapsed_ms).collect();
        let mut answered = self.answered_ms.clone();
        let latency_ms = Latency {
            p50: mcprobe_monitor::stats::percentile(&mut all_ms, 50.0),
            p95: mcprobe_monitor::stats::percentile(&mut all_ms, 95.0),
            answered_p50: mcprobe_monitor::stats::percentile(&mut answered, 50.0),
            answered_p95: mcprobe_monitor::stats::percentile(&mut answered, 95.0),
        };
        let buckets = [Bucket::Loud, Bucket::Quiet, Bucket::Passing]
            .into_iter()
            .map(|b| {
                let count = self
                    .modes
                    .iter()
                    .filter(|(m, _)| Bucket::of(**m) == b)
                    .map(|(_, n)| n)
                    .sum();
                BucketShare {
                    bucket: b,
                    modes: b.modes(),
                    count,
                    share: share(count, probed),
                }
            })
            .collect();
        let registries = self
            .registry_order
            .iter()
            .filter_map(|r| {
                let counts = self.registries.get(r)?;
                let n: u64 = counts.values().sum();
                let failing = counts
                    .iter()
                    .filter(|(m, _)| Bucket::of(**m) != Bucket::Passing)
                    .map(|(_, c)| c)
                    .sum();
                Some(RegistryShare {
                    registry: r.clone(),
                    probed: n,
                    failing,
                    failing_share: share(failing, n),
                    modes: ranked(counts, n),
                })
            })
            .collect();
        let mut slowest = self.seen.clone();
        // Slowest first; ties by URL so the report is stable across runs.
        slowest.sort_by(|a, b| b.elapsed_ms.cmp(&a.elapsed_ms).then(a.url.cmp(&b.url)));
        slowest.truncate(Audit::TOP);
        let common_failures = ranked(&self.modes, probed)
            .into_iter()
            .filter(|m| Bucket::of(m.mode) != Bucket::Passing)
            .map(|m| {
                let (url, reason) = self.examples.get(&m.mode).cloned().unwrap_or_default();
                CommonFailure {
                    mode: m.mode,
                    bucket: Bucket::of(m.mode),
                    count: m.count,
                    share: m.share,
                    example_url: url,
                    example_reason: reason,
                }
            })
            .collect();
        let mut drift = self.drift.clone();
        drift.sort_by(|a, b| b.breaking.cmp(&a.breaking).then(a.url.cmp(&b.url)));
        AuditReport {
            probed,
            status: self.status.clone(),
            modes: ranked(&self.modes, probed),
            buckets,
            registries,
            latency_ms,
            slowest,
            common_failures,
            drift,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::tests::verdict;
    #[test]
    fn buckets_cover_every_verdict_mode_once() {
        for m in Mode::ALL
            .into_iter()
            .filter(|m| m.layer() != "finding" && m.layer() != "aggregate")
        {
            let n = [Bucket::Loud, Bucket::Quiet, Bucket::Passing]
                .iter()
                .filter(|b| b.modes().contains(&m))
                .count();
            assert_eq!(n, 1, "{m} is in {n} buckets");
        }
    }

    #[test]
    fn the_audit_counts_shares_buckets_registries_and_latency() {
        let mut audit = Audit::new();
        let a = vec!["reg-a".to_string()];
        let ab = vec!["reg-a".to_string(), "reg-b".to_string()];
        let mut ok = verdict(Mode::Ok, "fine", &[]);
        ok.elapsed_ms = 100;
        audit.add(&ok, &ab);
        let mut ok2 = ok.clone();
        ok2.elapsed_ms = 300;
        ok2.url = "https://y.example.com/mcp".into();
        audit.add(&ok2, &a);
        let mut down = verdict(Mode::ConnectRefused, "refused", &[]);
        down.elapsed_ms = 5;
        audit.add(&down, &ab);
        let mut quiet = verdict(Mode::MalformedJsonrpc, "no jsonrpc", &[]);
        quiet.elapsed_ms = 900;
        audit.add(&quiet, &a);

        let r = audit.report();
        assert_eq!(r.probed, 4);
        assert_eq!(
            r.status,
            StatusCounts {
                up: 2,
                degraded: 1,
                down: 1
            }
        );
        assert_eq!(r.modes[0].mode, Mode::Ok);
        assert_eq!(r.modes[0].count, 2);
        assert_eq!(r.modes[0].share, 0.5);
        let bucket = |b: Bucket| r.buckets.iter().find(|x| x.bucket == b).unwrap().count;
        assert_eq!(
            (
                bucket(Bucket::Loud),
                bucket(Bucket::Quiet),
                bucket(Bucket::Passing)
            ),
            (1, 1, 2)
        );
        assert_eq!(r.registries[0].registry, "reg-a");
        assert_eq!(r.registries[0].probed, 4);
        assert_eq!(r.registries[0].failing, 2);
        assert_eq!(r.registries[1].probed, 2);
        assert_eq!(r.registries[1].failing_share, 0.5);
        assert_eq!(r.latency_ms.p50, Some(100));
        assert_eq!(r.latency_ms.p95, Some(900));
        assert_eq!(r.latency_ms.answered_p50, Some(300));
        assert_eq!(r.slowest[0].elapsed_ms, 900);
        assert_eq!(r.common_failures.len(), 2);
        assert!(r
            .common_failures
            .iter()
            .all(|c| c.bucket != Bucket::Passing));
        assert_eq!(r.common_failures[0].example_reason, "refused");
        assert_eq!(audit.mode_counts()[0], (Mode::Ok, 2));
        assert!(r.drift.is_empty());
    }

    #[test]
    fn the_audit_lists_only_real_drift() {
        use mcprobe_core::fingerprint::{Change, Drift};
        let drift = |from: &str, to: &str, changes: Vec<Change>| Drift {
            breaking: !changes.is_empty(),
            from_hash: from.into(),
            to_hash: to.into(),
            changes,
        };
        let mut audit = Audit::new();
        let mut same = verdict(Mode::Ok, "fine", &[]);
        same.drift = Some(drift("sha256:a", "sha256:a", vec![]));
        audit.add(&same, &[]);
        let mut moved = verdict(Mode::SchemaDrift, "changed", &[]);
        moved.url = "https://z.example.com/mcp".into();
        moved.drift = Some(drift(
            "sha256:a",
            "sha256:b",
            vec![Change::ToolRemoved { tool: "t".into() }],
        ));
        audit.add(&moved, &[]);
        let r = audit.report();
        assert_eq!(
            r.drift,
            vec![DriftNote {
                url: "https://z.example.com/mcp".into(),
                breaking: true,
                changes: 1
            }]
        );
    }
}
