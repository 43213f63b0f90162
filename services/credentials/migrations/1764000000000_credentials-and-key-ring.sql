-- Up Migration
-- The key ring. Each master key (32 random bytes) is stored wrapped by the root
-- key from the environment (AES-256-GCM). Rows are never deleted automatically:
-- a retired key's material stays so a backup restored later can still be read.
CREATE TABLE master_keys (
  id text PRIMARY KEY,
  -- Orders the ring without trusting clocks: the newest non-retired key is the active one.
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  material bytea NOT NULL,
  material_iv bytea NOT NULL,
  material_tag bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  retired_at timestamptz
);

-- One secret per tenant and integration, sealed with its own data key (DEK),
-- which is wrapped by a master key.
CREATE TABLE credentials (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  integration_id uuid NOT NULL,
  ciphertext bytea NOT NULL,
  iv bytea NOT NULL,
  tag bytea NOT NULL,
  wrapped_dek bytea NOT NULL,
  dek_iv bytea NOT NULL,
  dek_tag bytea NOT NULL,
  master_key_id text NOT NULL REFERENCES master_keys (id),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, integration_id)
);
-- Re-wrapping after a rotation and the key-ring status look records up by key.
CREATE INDEX credentials_master_key ON credentials (master_key_id);

-- Tells every replica that the ring changed (a rotation, a retirement), so it
-- re-reads the active key and joins the re-wrapping without a restart.
CREATE FUNCTION master_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_TABLE_SCHEMA || '_master_keys', '');
  RETURN NULL;
END $$;
CREATE TRIGGER master_keys_notify AFTER INSERT OR UPDATE ON master_keys
  FOR EACH STATEMENT EXECUTE FUNCTION master_keys_notify();

-- Down Migration
DROP TABLE credentials;
DROP TABLE master_keys;
DROP FUNCTION master_keys_notify();
