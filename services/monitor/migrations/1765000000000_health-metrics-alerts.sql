-- Up Migration

-- The integrations the monitor checks, as their lifecycle events describe them (the integrations service owns them).
CREATE TABLE integrations (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  name text NOT NULL,
  connected boolean NOT NULL,
  -- How many schemas its config narrows discovery to (null: every schema), for the recommendations.
  schemas_configured integer,
  check_interval_s integer,
  -- Claimed by a replica when due (pushed forward as it is claimed): null while disconnected.
  next_check_at timestamptz,
  -- The time of the last lifecycle event applied: an older one arriving late changes nothing.
  event_time timestamptz NOT NULL
);
CREATE INDEX integrations_due ON integrations (next_check_at) WHERE connected;
CREATE INDEX integrations_tenant ON integrations (tenant_id);

CREATE TABLE integration_health (
  integration_id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  state text NOT NULL CHECK (state IN ('healthy', 'degraded', 'unhealthy', 'unknown')),
  reason text NOT NULL,
  since timestamptz,
  last_checked_at timestamptz,
  -- Consecutive failed connection tests, failed syncs, and passing observations of either kind.
  test_failures integer NOT NULL DEFAULT 0,
  sync_failures integer NOT NULL DEFAULT 0,
  streak integer NOT NULL DEFAULT 0
);
CREATE INDEX integration_health_tenant ON integration_health (tenant_id);

-- The last checks of each integration (trimmed to 100 each as they come).
CREATE TABLE health_checks (
  id bigserial PRIMARY KEY,
  integration_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('connection_test', 'sync')),
  ok boolean NOT NULL,
  latency_ms double precision,
  error_code text,
  error_message text,
  trigger text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX health_checks_recent ON health_checks (integration_id, at DESC, id DESC);

CREATE TABLE health_transitions (
  id bigserial PRIMARY KEY,
  integration_id uuid NOT NULL,
  from_state text NOT NULL,
  to_state text NOT NULL,
  reason text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX health_transitions_recent ON health_transitions (integration_id, at DESC, id DESC);

-- Events already counted (consumers are at least once; a redelivery must not count twice).
-- Kept a little longer than the EVENTS stream keeps events (7 days).
CREATE TABLE processed_events (
  id text PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processed_events_age ON processed_events (at);

-- Time-bucketed rollups (UTC buckets): per integration, one row per minute (kept two days: the 1h and
-- 24h windows), per hour (kept ten days: the 7d window, the 24h window's baseline) and per day (kept
-- METRICS_RETENTION_DAYS: the 30d window, the longer baselines). A window reads at most a few hundred
-- rows, however many syncs they count. Histograms are sparse: {bucket index: count} over log buckets,
-- 16 per doubling of milliseconds.
CREATE TABLE rollups (
  integration_id uuid NOT NULL,
  tenant_id text NOT NULL,
  resolution text NOT NULL CHECK (resolution IN ('minute', 'hour', 'day')),
  bucket timestamptz NOT NULL,
  syncs_started integer NOT NULL DEFAULT 0,
  syncs_completed integer NOT NULL DEFAULT 0,
  syncs_failed integer NOT NULL DEFAULT 0,
  syncs_cancelled integer NOT NULL DEFAULT 0,
  duration_sum_ms double precision NOT NULL DEFAULT 0,
  duration_max_ms double precision NOT NULL DEFAULT 0,
  duration_hist jsonb NOT NULL DEFAULT '{}',
  relations_sum bigint NOT NULL DEFAULT 0,
  tests_total integer NOT NULL DEFAULT 0,
  tests_failed integer NOT NULL DEFAULT 0,
  test_latency_sum_ms double precision NOT NULL DEFAULT 0,
  test_latency_max_ms double precision NOT NULL DEFAULT 0,
  test_latency_hist jsonb NOT NULL DEFAULT '{}',
  errors jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (integration_id, resolution, bucket)
);
-- Adds n to key k of a sparse histogram or count map (k null: unchanged).
CREATE FUNCTION jsonb_inc(h jsonb, k text, n bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN k IS NULL THEN h ELSE jsonb_set(h, ARRAY[k], to_jsonb(COALESCE((h ->> k)::bigint, 0) + n)) END
$$;
CREATE INDEX rollups_tenant ON rollups (tenant_id, resolution, bucket);
CREATE INDEX rollups_age ON rollups (resolution, bucket);

CREATE TABLE alert_rules (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  name text NOT NULL,
  metric text NOT NULL,
  comparator text NOT NULL CHECK (comparator IN ('gt', 'gte', 'lt', 'lte')),
  threshold double precision NOT NULL,
  window_text text NOT NULL,
  for_text text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  scope_type text NOT NULL CHECK (scope_type IN ('integration', 'tenant', 'system')),
  integration_id uuid,
  enabled boolean NOT NULL DEFAULT true,
  -- The default a seeded rule came from: seeded once per tenant, so a deleted default stays deleted.
  seed text,
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  UNIQUE (tenant_id, seed)
);
CREATE INDEX alert_rules_tenant ON alert_rules (tenant_id);

CREATE TABLE seeded_tenants (
  tenant_id text PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now()
);

-- One row per episode of a rule's condition on one series: pending → firing → resolved.
-- The rule is copied in, so an alert still reads the same after its rule changes or goes.
CREATE TABLE alerts (
  id uuid PRIMARY KEY,
  rule_id uuid NOT NULL,
  tenant_id text NOT NULL,
  rule jsonb NOT NULL,
  series text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}',
  integration_id uuid,
  state text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
  value double precision,
  -- The condition has held since (pending, firing); while firing, it has been false since (the resolve hysteresis).
  active_since timestamptz NOT NULL,
  clear_since timestamptz,
  fired_at timestamptz,
  resolved_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
);
CREATE UNIQUE INDEX alerts_open ON alerts (rule_id, series) WHERE state IN ('pending', 'firing');
CREATE INDEX alerts_page ON alerts (tenant_id, created_at DESC, id DESC);

CREATE TABLE dead_letters (
  id uuid PRIMARY KEY,
  stream text NOT NULL,
  consumer text NOT NULL,
  service text NOT NULL,
  subject text NOT NULL,
  reason text NOT NULL,
  deliveries integer NOT NULL,
  error_code text NOT NULL,
  error_message text NOT NULL,
  payload jsonb,
  failed_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  replayed_at timestamptz,
  replays integer NOT NULL DEFAULT 0
);
CREATE INDEX dead_letters_page ON dead_letters (recorded_at DESC, id DESC);
CREATE INDEX dead_letters_waiting ON dead_letters (consumer) WHERE replayed_at IS NULL;

-- Requests the gateway refused for their key, per source and minute (kept a day).
CREATE TABLE auth_failures (
  source text NOT NULL,
  bucket timestamptz NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (source, bucket)
);
CREATE INDEX auth_failures_age ON auth_failures (bucket);

-- Down Migration
DROP FUNCTION jsonb_inc;
DROP TABLE auth_failures, dead_letters, alerts, seeded_tenants, alert_rules, rollups, processed_events,
  health_transitions, health_checks, integration_health, integrations;
