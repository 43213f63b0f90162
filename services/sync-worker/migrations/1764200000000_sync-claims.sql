-- Up Migration
-- A sync is claimed by one delivery of one job at a time (see repo/syncs.ts claimSync):
-- job_generation is the job the row expects (the sweeper re-enqueues a lost one as the next generation),
-- claimed_delivery the JetStream delivery of that job that holds (or last held) the claim.
ALTER TABLE syncs ADD COLUMN job_generation integer NOT NULL DEFAULT 0;
ALTER TABLE syncs ADD COLUMN claimed_delivery integer NOT NULL DEFAULT 0;
-- How often its job was re-enqueued after being lost; past a bound the sync fails instead.
ALTER TABLE syncs ADD COLUMN recoveries integer NOT NULL DEFAULT 0;
-- What the job needs of its integration, so a lost job can be written again (null for syncs started before this).
ALTER TABLE syncs ADD COLUMN target jsonb;
-- heartbeat_at is now the last sign of life of the sync or its job, STARTED ones included: the sweeper looks at quiet ones.
UPDATE syncs SET heartbeat_at = created_at WHERE heartbeat_at IS NULL AND status IN ('STARTED', 'PROCESSING');
ALTER TABLE syncs ALTER COLUMN heartbeat_at SET DEFAULT clock_timestamp();

-- Down Migration
ALTER TABLE syncs ALTER COLUMN heartbeat_at DROP DEFAULT;
ALTER TABLE syncs DROP COLUMN target;
ALTER TABLE syncs DROP COLUMN recoveries;
ALTER TABLE syncs DROP COLUMN claimed_delivery;
ALTER TABLE syncs DROP COLUMN job_generation;
