-- Up Migration
-- Pagination cursors carry milliseconds; keys stored with microseconds could be skipped between pages.
UPDATE api_keys SET created_at = date_trunc('milliseconds', created_at);
ALTER TABLE api_keys ALTER COLUMN created_at SET DEFAULT date_trunc('milliseconds', clock_timestamp());

-- Down Migration
ALTER TABLE api_keys ALTER COLUMN created_at SET DEFAULT clock_timestamp();
