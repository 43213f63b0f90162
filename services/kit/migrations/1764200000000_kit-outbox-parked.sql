-- Up Migration
-- Outbox rows that failed to publish for a reason that cannot pass (too large for
-- the NATS server, refused by its permissions, invalid) are moved here, so the
-- rows after them flow. An operator lists and retries them (<service>.outbox.parked,
-- <service>.outbox.retry; `npm run admin -- outbox-parked`).
CREATE TABLE outbox_parked (
  id uuid PRIMARY KEY,
  subject text NOT NULL,
  event jsonb NOT NULL,
  trace jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL,
  -- Milliseconds: the list's cursor carries them.
  parked_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  attempts integer NOT NULL,
  reason text NOT NULL CHECK (reason IN ('too_large', 'forbidden', 'invalid')),
  error text NOT NULL,
  bytes integer NOT NULL
);
CREATE INDEX outbox_parked_page ON outbox_parked (parked_at DESC, id DESC);

-- Consecutive failures that cannot pass; a failure that may pass (NATS away) resets it.
ALTER TABLE outbox ADD COLUMN permanent_failures integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE outbox DROP COLUMN permanent_failures;
DROP TABLE outbox_parked;
