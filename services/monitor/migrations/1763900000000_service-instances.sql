-- Up Migration
CREATE TABLE service_instances (
  instance_id text PRIMARY KEY,
  service text NOT NULL,
  version text NOT NULL,
  host text NOT NULL,
  pid integer NOT NULL,
  state text NOT NULL,
  started_at timestamptz NOT NULL,
  dependencies jsonb NOT NULL,
  interval_ms integer NOT NULL,
  last_seen timestamptz NOT NULL
);
CREATE INDEX service_instances_service ON service_instances (service, last_seen DESC);

-- Down Migration
DROP TABLE service_instances;
