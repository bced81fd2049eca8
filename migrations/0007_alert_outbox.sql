-- mcprobe D1 schema: the alert outbox (crates/worker/src/outbox.rs).
--
-- A delivery is now written as 'pending' in the same batch as the policy
-- state that decided it, then claimed ('sending' until lease_until_ms),
-- then 'delivered' or 'failed'. A failed attempt that may be retried goes
-- back to 'pending' with next_at_ms. The cron's sweep takes rows that are
-- 'pending' and due, or 'sending' past their lease (their sender died).

-- The event the delivery announces (core::policy::Event as JSON): the
-- request is rebuilt from it and the monitor's alert settings when sent, so
-- no secret header is copied here.
ALTER TABLE deliveries ADD COLUMN event_json TEXT;
-- While 'sending': when the claim runs out and the sweep may take the row.
ALTER TABLE deliveries ADD COLUMN lease_until_ms INTEGER;
-- While 'pending': when the next attempt is due.
ALTER TABLE deliveries ADD COLUMN next_at_ms INTEGER;

-- The sweep reads only the open rows; they are few, the done ones many.
CREATE INDEX IF NOT EXISTS deliveries_open
    ON deliveries (at_ms) WHERE status IN ('pending', 'sending');
