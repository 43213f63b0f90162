-- Up Migration
-- Pagination cursors carry milliseconds; keys stored with microseconds could be skipped between pages.
UPDATE integrations SET created_at = date_trunc('milliseconds', created_at);
ALTER TABLE integrations ALTER COLUMN created_at SET DEFAULT date_trunc('milliseconds', clock_timestamp());

-- Down Migration
ALTER TABLE integrations ALTER COLUMN created_at SET DEFAULT clock_timestamp();
