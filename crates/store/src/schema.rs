//! The schema: the numbered files of `migrations/` at the repository root,
//! the one schema of D1 (applied there by `wrangler d1 migrations apply`),
//! compiled in here so SQLite gets the very same tables ([`crate::sqlite`]
//! applies them in order, recording each in `d1_migrations` as wrangler
//! does). Add a migration as a new numbered file AND a line below; the test
//! `every_migration_file_is_listed` fails until both are there.

/// One numbered migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The file name, as wrangler records it in `d1_migrations`.
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($name:literal) => {
        Migration {
            name: $name,
            sql: include_str!(concat!("../../../migrations/", $name)),
        }
    };
}

/// Every migration, in the order they apply.
pub const MIGRATIONS: &[Migration] = &[
    migration!("0001_init.sql"),
    migration!("0002_state_and_history.sql"),
    migration!("0003_ticks_and_baselines.sql"),
    migration!("0004_alerting.sql"),
    migration!("0005_registry.sql"),
    migration!("0006_public_views.sql"),
    migration!("0007_alert_outbox.sql"),
];

/// Which migrations have run (wrangler's own bookkeeping table, so a SQLite
/// file and a D1 database answer the same question the same way).
pub const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS d1_migrations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);";

/// What only `mcprobe watch` keeps, beside the shared tables: the tool list
/// each monitor was first seen with (the Worker keeps `monitors.baseline_hash`
/// and `snapshots` instead, with rows `watch` has no use for) and a probe
/// counter per monitor (the Worker writes no row per probe).
pub const WATCH_TABLES: &str = "
CREATE TABLE IF NOT EXISTS baselines (
    monitor_id    TEXT PRIMARY KEY,
    hash          TEXT NOT NULL,
    snapshot_json TEXT NOT NULL,
    at_ms         INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS watch_probes (
    monitor_id    TEXT PRIMARY KEY NOT NULL,
    probes        INTEGER NOT NULL DEFAULT 0,
    last_probe_ms INTEGER,
    last_mode     TEXT
);
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_listed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations/ is readable")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<&str> = MIGRATIONS.iter().map(|m| m.name).collect();
        assert_eq!(files, listed);
    }
}
