-- Up Migration
-- The platform operator's tenant (the key `npm start` prints, `npm run admin -- create-key --operator`):
-- its keys also see what spans tenants (service instances, and later queues, dead letters, readiness, reports).
ALTER TABLE tenants ADD COLUMN operator boolean NOT NULL DEFAULT false;

-- Down Migration
ALTER TABLE tenants DROP COLUMN operator;
