import { createHash } from 'node:crypto';
import { z } from 'zod';
import { text } from '../text.ts';
import { CursorQuery, pageOf } from './pagination.ts';

export const IntegrationType = z.enum(['POSTGRESQL'], { message: 'unknown integration type; supported: POSTGRESQL' });
export type IntegrationType = z.infer<typeof IntegrationType>;

export const SslMode = z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);
export type SslMode = z.infer<typeof SslMode>;

/** What a customer hands over to connect a PostgreSQL database. */
export const PostgresCredential = z
  .object({
    host: text().trim().min(1).max(255).describe('Host name or IP address'),
    port: z.number().int().min(1).max(65_535).default(5432),
    username: text().min(1).max(128),
    password: text().min(1).max(1_024),
    database_name: text().min(1).max(128),
    sslmode: SslMode.optional().describe(
      'As libpq: disable, allow, prefer, require, verify-ca, verify-full. Default prefer; verify-full on a production Switchyard, which never sends a password in plaintext or to a server it has not verified (certificate or SCRAM channel binding)',
    ),
  })
  .strict();
export type PostgresCredential = z.infer<typeof PostgresCredential>;

export const SyncFrequency = z.enum(['manual', 'hourly', 'daily', 'weekly']);
export type SyncFrequency = z.infer<typeof SyncFrequency>;

const identifier = text().min(1).max(63);
export const IntegrationConfig = z
  .object({
    schemas: z.array(identifier).max(1_000).optional().describe('Schemas to discover (default: every non-system schema)'),
    syncFrequency: SyncFrequency.optional().describe('How often a sync runs on its own (default: manual)'),
    healthCheckIntervalSeconds: z
      .number()
      .int()
      .min(60)
      .max(86_400)
      .optional()
      .describe("Seconds between the monitor's connection tests of this integration (default HEALTH_CHECK_INTERVAL_MS, 5 minutes); jittered by ±10%"),
  })
  .strict();
export type IntegrationConfig = z.infer<typeof IntegrationConfig>;

export const IntegrationStatus = z.enum(['CONNECTED', 'DISCONNECTED']);
export type IntegrationStatus = z.infer<typeof IntegrationStatus>;

export const CreateIntegrationBody = z
  .object({
    integration_type: IntegrationType,
    name: text().trim().min(1).max(200).optional(),
    credential: PostgresCredential,
    config: IntegrationConfig.optional(),
  })
  .strict();
export type CreateIntegrationBody = z.infer<typeof CreateIntegrationBody>;

export const UpdateIntegrationBody = z
  .object({ name: text().trim().min(1).max(200).optional(), config: IntegrationConfig.optional() })
  .strict()
  .refine((b) => b.name !== undefined || b.config !== undefined, { message: 'give name or config' });
export type UpdateIntegrationBody = z.infer<typeof UpdateIntegrationBody>;

/** What a sync needs of its integration: it travels in the start request and the job, so the worker never asks back. */
export const SyncTarget = z.object({
  type: IntegrationType,
  schemas: IntegrationConfig.shape.schemas,
});
export type SyncTarget = z.infer<typeof SyncTarget>;

export const SyncStatus = z.enum(['STARTED', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED']);
export type SyncStatus = z.infer<typeof SyncStatus>;

export const SyncTrigger = z.enum(['created', 'manual', 'schedule', 'connected', 'credentials_rotated']);
export type SyncTrigger = z.infer<typeof SyncTrigger>;

export const Sync = z.object({
  id: z.uuid(),
  integration_id: z.uuid(),
  tenant_id: text(),
  status: SyncStatus,
  trigger: SyncTrigger,
  progress: z.object({ done: z.number().int(), total: z.number().int() }),
  attempts: z.number().int(),
  error: z.object({ code: text(), message: text() }).nullable(),
  summary: z
    .object({ schemas: z.number().int(), relations: z.number().int(), columns: z.number().int(), changes: z.number().int() })
    .nullable(),
  created_at: z.iso.datetime(),
  started_at: z.iso.datetime().nullable(),
  finished_at: z.iso.datetime().nullable(),
});
export type Sync = z.infer<typeof Sync>;

export const Integration = z.object({
  id: z.uuid(),
  tenant_id: text(),
  integration_type: IntegrationType,
  name: text(),
  status: IntegrationStatus,
  config: IntegrationConfig,
  /** Where it points, without the secret (host, port, database, user). */
  target: z.object({ host: text(), port: z.number().int(), database_name: text(), username: text() }),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
export type Integration = z.infer<typeof Integration>;

/** The create response also names the sync it started. */
export const CreatedIntegration = Integration.extend({ sync: z.object({ id: z.uuid(), status: SyncStatus }).nullable() });
export type CreatedIntegration = z.infer<typeof CreatedIntegration>;

export const ConnectionTest = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), latency_ms: z.number().nonnegative(), server_version: text() }),
  z.object({ ok: z.literal(false), reason: text(), message: text() }),
]);
export type ConnectionTest = z.infer<typeof ConnectionTest>;

export const IntegrationParams = z.object({ id: z.uuid() });
export const SyncParams = z.object({ syncId: z.uuid() });

export const ListIntegrationsQuery = CursorQuery.extend({
  type: IntegrationType.optional(),
  status: IntegrationStatus.optional(),
});
export type ListIntegrationsQuery = z.infer<typeof ListIntegrationsQuery>;

export const IntegrationList = pageOf(Integration);
export type IntegrationList = z.infer<typeof IntegrationList>;

export const SyncList = pageOf(Sync);
export type SyncList = z.infer<typeof SyncList>;

/**
 * Why a connection attempt failed, for the 400 a customer sees (never the
 * password, never a stack).
 */
export const ConnectionFailureReason = z.enum([
  'HOST_NOT_FOUND',
  'CONNECTION_REFUSED',
  'TIMEOUT',
  'AUTHENTICATION_FAILED',
  'DATABASE_NOT_FOUND',
  'TLS_REQUIRED',
  'TLS_UNAVAILABLE',
  'TLS_FAILED',
  // A production Switchyard sends a password only to a verified server: over TLS
  // whose certificate was not checked (sslmode require, prefer, allow), only
  // into SCRAM with channel binding. The server asked for it any other way.
  'TLS_UNVERIFIED',
  'PERMISSION_DENIED',
  'CONNECTION_LOST',
  'TARGET_NOT_ALLOWED',
  'UNKNOWN',
]);
export type ConnectionFailureReason = z.infer<typeof ConnectionFailureReason>;

/** A UUID (v5 style: SHA-1, version and variant bits set) derived from a name: the same name, the same id. */
export function nameUuid(name: string): string {
  const h = createHash('sha1').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * The id of the sync an integration's creation starts. Deterministic so every
 * path that starts it (the create request, the integration.created event)
 * makes the same one, once.
 */
export const createdSyncId = (integrationId: string): string => nameUuid(`switchyard:sync:created:${integrationId}`);

/** The id of the sync a request with an Idempotency-Key starts: a retry that takes the work over starts the same one. */
export const requestedSyncId = (tenantId: string, idempotencyKey: string): string =>
  nameUuid(`switchyard:sync:requested:${tenantId}:${idempotencyKey}`);

/** The part of an integration its syncs need (see SyncTarget). */
export const syncTargetOf = (i: Integration): SyncTarget => ({ type: i.integration_type, schemas: i.config.schemas });
