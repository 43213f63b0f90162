-- Up Migration
-- Durable Idempotency-Key records of the requests a service does the work of
-- (created in each service's own schema). A key is unique per tenant and
-- route; "running" is a lease its holder refreshes, never a lasting state.
CREATE TABLE idempotency_keys (
  tenant_id text NOT NULL,
  scope text NOT NULL,
  key text NOT NULL,
  fingerprint text NOT NULL,
  state text NOT NULL CHECK (state IN ('running', 'done')),
  holder uuid,
  lease_until timestamptz,
  -- The reply the first request got: {"ok":true,"data":…} or {"ok":false,"error":…}.
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  completed_at timestamptz,
  PRIMARY KEY (tenant_id, scope, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Down Migration
DROP TABLE idempotency_keys;
