-- mcprobe D1 schema, first slice: the monitors themselves.
--
-- Applied by `wrangler d1 migrations apply DB` (locally: `--local`, which
-- `cargo xtask` runs before `wrangler dev`). Later migrations add state
-- changes, roll-ups, incidents and drift events; once deployed, never edit an
-- applied migration, add a new numbered file instead. (This one has not been
-- deployed anywhere yet.)
--
-- Times are milliseconds since the Unix epoch, as in the core.
-- No per-probe "next check" column: the core's `schedule` derives each
-- monitor's slots from its id and interval, so scheduling writes no row per
-- probe (see crates/core/src/rollup.rs for the write budget).

CREATE TABLE IF NOT EXISTS monitors (
    -- Short random id, used in URLs (/api/monitors/{id}, /badge/{id}.svg).
    id            TEXT PRIMARY KEY NOT NULL,
    url           TEXT NOT NULL,
    name          TEXT NOT NULL,
    -- Probe cadence, as the core's monitor spec allows (30..=3600 s).
    interval_s    INTEGER NOT NULL DEFAULT 60 CHECK (interval_s BETWEEN 30 AND 3600),
    -- Listed by GET /api/monitors and /metrics only when 1.
    public        INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    runbook_url   TEXT,
    -- JSON objects (monitor.rs validates them); header values are secrets.
    headers_json  TEXT NOT NULL DEFAULT '{}',
    alerts_json   TEXT NOT NULL DEFAULT '{}',
    created_at_ms INTEGER NOT NULL,
    -- Set when a monitor leaves every registry: retired, never deleted.
    retired_at_ms INTEGER
);
