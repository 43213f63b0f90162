-- Up Migration
-- Pagination cursors carry milliseconds; keys stored with microseconds could be skipped between pages.
UPDATE syncs SET created_at = date_trunc('milliseconds', created_at);
ALTER TABLE syncs ALTER COLUMN created_at SET DEFAULT date_trunc('milliseconds', clock_timestamp());
UPDATE schema_changes SET detected_at = date_trunc('milliseconds', detected_at);
ALTER TABLE schema_changes ALTER COLUMN detected_at SET DEFAULT date_trunc('milliseconds', clock_timestamp());

-- Down Migration
ALTER TABLE syncs ALTER COLUMN created_at SET DEFAULT clock_timestamp();
ALTER TABLE schema_changes ALTER COLUMN detected_at SET DEFAULT clock_timestamp();
