-- mcprobe D1 schema, sixth slice: public routes in constant cost.
--
-- The unauthenticated routes must cost a bounded number of D1 queries
-- whatever the number of monitors (D1 allows 1,000 queries an invocation,
-- 50 on the free plan, and anyone can call these routes in a loop).
--
-- `/metrics` and `GET /api/registry/summary` are served from views the cron
-- renders after each tick (crates/worker/src/public_views.rs): one query a
-- request. A view longer than one part is split over several rows
-- (`{name}:{part}`, part 4 digits), all written in one batch.
CREATE TABLE IF NOT EXISTS public_views (
    key   TEXT PRIMARY KEY NOT NULL,
    -- When the cron rendered it (ms since the epoch).
    at_ms INTEGER NOT NULL,
    body  TEXT NOT NULL
) WITHOUT ROWID;

-- `GET /api/monitors` is paged by id (`?limit=&cursor=`): these partial
-- indexes hold the public live monitors only, so a page is one index range
-- read, all sources or one.
CREATE INDEX IF NOT EXISTS monitors_public_by_id
    ON monitors (id) WHERE public = 1 AND retired_at_ms IS NULL;
CREATE INDEX IF NOT EXISTS monitors_public_by_source
    ON monitors (source, id) WHERE public = 1 AND retired_at_ms IS NULL;
