-- mcprobe D1 schema, fifth slice: the registry crawl.
--
-- The crawl (crates/worker/src/crawl.rs) turns every endpoint the configured
-- registries list into a public monitor. Those rows are the crawl's alone:
-- `source` tells them apart from the monitors registered through the API,
-- which the crawl never updates or retires.

-- 'api' (POST /api/monitors) or 'registry' (the crawl). Existing rows are API ones.
ALTER TABLE monitors ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
-- Registry monitors only: the registry base URLs that list the endpoint, a
-- JSON array, first seen first.
ALTER TABLE monitors ADD COLUMN registries_json TEXT;
-- Registry monitors only: the required secret headers a listing declares, a
-- JSON array. The endpoint is probed without them, so its 401/403 reads as
-- auth_required ("needs credentials"), not as down (core registry::needs_credentials).
ALTER TABLE monitors ADD COLUMN secret_headers_json TEXT;
-- Registry monitors only: a digest of what the registries said (url, name,
-- registries, secret headers); a crawl writes a row only when it moved.
ALTER TABLE monitors ADD COLUMN listing_hash TEXT;

-- Templated remotes (`https://{tenant}.example.com/mcp`): recorded as listed,
-- never probed (filling the variables in would be a guess).
CREATE TABLE IF NOT EXISTS registry_templates (
    url             TEXT PRIMARY KEY NOT NULL,
    servers_json    TEXT NOT NULL,
    registries_json TEXT NOT NULL,
    variables_json  TEXT NOT NULL,
    listing_hash    TEXT NOT NULL,
    first_seen_ms   INTEGER NOT NULL,
    -- Set when no registry lists it any more (after a complete full crawl).
    retired_at_ms   INTEGER
) WITHOUT ROWID;

-- One row per crawl: what it read and what it changed (GET /api/registry/summary).
-- At most 24 rows a day.
CREATE TABLE IF NOT EXISTS registry_crawls (
    at_ms           INTEGER PRIMARY KEY NOT NULL,
    -- 'full' (every page; may retire) or 'incremental' (`updated_since`).
    kind            TEXT NOT NULL,
    -- 1 when every page of every registry was read; only then may a full crawl retire.
    complete        INTEGER NOT NULL,
    -- The crawl's facts (pages, listings, endpoints, duplicates, templated,
    -- upserted, retired, errors, ...), a JSON object.
    facts_json      TEXT NOT NULL
) WITHOUT ROWID;
