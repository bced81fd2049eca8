-- mcprobe D1 schema, second slice: what the scheduled monitor writes.
--
-- Every write is idempotent: two cron runs that overlap write each row once.
-- Keys are the core's idempotency keys (crates/core/src/rollup.rs:
-- `{monitor}:{kind}:{ms}`, or the packed row's key), inserted with
-- INSERT OR IGNORE; monitor_state is an upsert that only moves forward in time.
-- No secondary indexes, and WITHOUT ROWID: D1 counts every index update as a
-- row written, and a TEXT primary key on a rowid table is a second b-tree
-- (measured: 2 rows written per insert; WITHOUT ROWID makes it 1). The write
-- budget (rollup.rs) is the constraint here. Times are ms since the
-- Unix epoch.

-- POST /api/monitors/{id}/maintenance: alerts held until then.
ALTER TABLE monitors ADD COLUMN maintenance_until_ms INTEGER;

-- The latest state of each monitor: written only when its status, mode or
-- tool-list hash changes (never once per probe).
CREATE TABLE IF NOT EXISTS monitor_state (
    monitor_id    TEXT PRIMARY KEY NOT NULL,
    at_ms         INTEGER NOT NULL,
    status        TEXT NOT NULL,
    mode          TEXT NOT NULL,
    elapsed_ms    INTEGER NOT NULL,
    tools_hash    TEXT,
    -- The verdict that made the change, as failure-modes.md prints it.
    verdict_json  TEXT NOT NULL,
    -- The core's Accumulator at that moment, so a new isolate goes on from it.
    accumulator_json TEXT NOT NULL
) WITHOUT ROWID;

-- One row per change of status or mode (Write::StateChange).
CREATE TABLE IF NOT EXISTS state_changes (
    key          TEXT PRIMARY KEY NOT NULL,
    monitor_id   TEXT NOT NULL,
    at_ms        INTEGER NOT NULL,
    status       TEXT NOT NULL,
    mode         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    verdict_json TEXT NOT NULL
) WITHOUT ROWID;

-- One row per change of the tool-list hash (Write::Drift).
CREATE TABLE IF NOT EXISTS drift_events (
    key        TEXT PRIMARY KEY NOT NULL,
    monitor_id TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    from_hash  TEXT NOT NULL,
    to_hash    TEXT NOT NULL
) WITHOUT ROWID;

-- Full tool lists, stored once per hash (the baseline drift is judged against).
CREATE TABLE IF NOT EXISTS snapshots (
    hash          TEXT PRIMARY KEY NOT NULL,
    snapshot_json TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Packed periodic rows (rollup::pack): hourly and daily roll-ups and
-- checkpoints of one shard and period, the items as a JSON array of Writes.
CREATE TABLE IF NOT EXISTS rollups (
    key        TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    start_ms   INTEGER NOT NULL,
    items_json TEXT NOT NULL
) WITHOUT ROWID;
