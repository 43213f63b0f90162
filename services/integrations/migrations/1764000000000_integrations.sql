-- Up Migration
CREATE TABLE integrations (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  type text NOT NULL,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('CONNECTED', 'DISCONNECTED')),
  config jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Where the integration points, never the secret (that lives in the credentials service).
  target jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX integrations_tenant_page ON integrations (tenant_id, created_at DESC, id DESC);

-- Down Migration
DROP TABLE integrations;
