-- mcprobe D1 schema, fourth slice: alerting.
--
-- Written only when something happens (a failing or recovering monitor, an
-- event, a delivery): a healthy monitor that stays healthy writes nothing here.

-- The policy state (core::policy::PolicyState) of each monitor that is not
-- plainly healthy; `open` = 1 while it has an incident, a failure streak,
-- flapping, pending re-probes or held events, so the cron can tick them.
CREATE TABLE IF NOT EXISTS alert_state (
    monitor_id TEXT PRIMARY KEY NOT NULL,
    state_json TEXT NOT NULL,
    open       INTEGER NOT NULL DEFAULT 0,
    at_ms      INTEGER NOT NULL
) WITHOUT ROWID;

-- Confirmed incidents as the policy announced them.
CREATE TABLE IF NOT EXISTS incidents (
    id               TEXT PRIMARY KEY NOT NULL,
    monitor_id       TEXT NOT NULL,
    started_at_ms    INTEGER NOT NULL,
    announced_at_ms  INTEGER NOT NULL,
    severity         TEXT NOT NULL,
    mode             TEXT NOT NULL,
    reason           TEXT NOT NULL,
    hint             TEXT NOT NULL,
    acked_at_ms      INTEGER,
    escalated_at_ms  INTEGER,
    resolved_at_ms   INTEGER,
    duration_ms      INTEGER
) WITHOUT ROWID;

-- One row per (event, channel): claimed before sending (INSERT OR IGNORE, so
-- two runs never send one event twice), then updated with the outcome. A
-- delivery that failed every attempt stays here as 'failed'.
CREATE TABLE IF NOT EXISTS deliveries (
    key          TEXT PRIMARY KEY NOT NULL,
    monitor_id   TEXT NOT NULL,
    incident_id  TEXT,
    event        TEXT NOT NULL,
    severity     TEXT NOT NULL,
    channel_name TEXT NOT NULL,
    channel      TEXT NOT NULL,
    at_ms        INTEGER NOT NULL,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    http_status  INTEGER,
    error        TEXT,
    done_at_ms   INTEGER
) WITHOUT ROWID;
