-- mcprobe D1 schema, third slice: tick claims and accepted baselines.
--
-- One row per cron minute, inserted with INSERT OR IGNORE by the run that
-- takes the tick: an overlapping run of the same minute changes no row and
-- stops (crates/worker/src/cron.rs). 1,440 rows a day, pruned after 2 days.
CREATE TABLE IF NOT EXISTS ticks (
    tick_ms       INTEGER PRIMARY KEY NOT NULL,
    claimed_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- The tool-list hash drift is judged against: set by the first tool list a
-- monitor shows, replaced only by POST /api/monitors/{id}/baseline. Until
-- then a changed list keeps the schema_drift verdict.
ALTER TABLE monitors ADD COLUMN baseline_hash TEXT;
