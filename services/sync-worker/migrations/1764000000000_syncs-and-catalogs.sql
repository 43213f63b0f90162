-- Up Migration
CREATE TABLE syncs (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  integration_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('STARTED', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED')),
  trigger text NOT NULL,
  progress_done integer NOT NULL DEFAULT 0,
  progress_total integer NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0,
  error jsonb,
  summary jsonb,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  started_at timestamptz,
  finished_at timestamptz,
  -- Touched while a worker runs the sync; a silent PROCESSING sync is failed by the sweeper.
  heartbeat_at timestamptz
);
-- Only one active sync per integration: a second start is a conflict naming the first.
CREATE UNIQUE INDEX syncs_one_active ON syncs (integration_id) WHERE status IN ('STARTED', 'PROCESSING');
CREATE INDEX syncs_integration_page ON syncs (tenant_id, integration_id, created_at DESC, id DESC);
CREATE INDEX syncs_processing ON syncs (heartbeat_at) WHERE status IN ('STARTED', 'PROCESSING');

CREATE TABLE catalog_snapshots (
  sync_id uuid PRIMARY KEY REFERENCES syncs (id) ON DELETE CASCADE,
  tenant_id text NOT NULL,
  integration_id uuid NOT NULL,
  server_version text NOT NULL,
  database text NOT NULL,
  discovered_at timestamptz NOT NULL,
  schemas jsonb NOT NULL,
  enums jsonb NOT NULL
);
CREATE INDEX catalog_snapshots_latest ON catalog_snapshots (tenant_id, integration_id, discovered_at DESC);

-- One row per relation, so a filter by schema or table reads only what it returns.
CREATE TABLE catalog_relations (
  sync_id uuid NOT NULL REFERENCES catalog_snapshots (sync_id) ON DELETE CASCADE,
  schema_name text NOT NULL,
  name text NOT NULL,
  definition jsonb NOT NULL,
  PRIMARY KEY (sync_id, schema_name, name)
);

CREATE TABLE schema_changes (
  sync_id uuid PRIMARY KEY REFERENCES syncs (id) ON DELETE CASCADE,
  previous_sync_id uuid NOT NULL,
  tenant_id text NOT NULL,
  integration_id uuid NOT NULL,
  detected_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  changes jsonb NOT NULL
);
CREATE INDEX schema_changes_page ON schema_changes (tenant_id, integration_id, detected_at DESC, sync_id DESC);

-- Down Migration
DROP TABLE schema_changes;
DROP TABLE catalog_relations;
DROP TABLE catalog_snapshots;
DROP TABLE syncs;
