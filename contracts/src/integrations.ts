import { z } from 'zod';
import { text } from './text.ts';
import {
  ConnectionTest,
  CreatedIntegration,
  CreateIntegrationBody,
  Integration,
  IntegrationConfig,
  IntegrationList,
  ListIntegrationsQuery,
  PostgresCredential,
  Sync,
  SyncList,
  SyncTarget,
  SyncTrigger,
} from './api/integrations.ts';
import { CursorQuery, pageOf } from './api/pagination.ts';
import { Catalog, CatalogRelation, SchemaChange } from './catalog.ts';
import { defineRequest, IdempotencyRef } from './requests.ts';
import { TestTrigger } from './monitor.ts';

const tenant = { tenant_id: text().min(1) };
const one = z.object({ ...tenant, id: z.uuid() });
const page = CursorQuery.shape;

export const Deleted = z.object({ deleted: z.literal(true) });

// A real connection attempt is bounded by 5 s; the callers wait a little longer.
const CONNECTING_MS = 8_000;

export const integrationRequests = {
  create: defineRequest(
    'integrations',
    'create',
    z.object({ ...tenant, body: CreateIntegrationBody, idempotency: IdempotencyRef.optional() }),
    CreatedIntegration,
    CONNECTING_MS,
  ),
  list: defineRequest('integrations', 'list', z.object({ ...tenant, query: ListIntegrationsQuery }), IntegrationList),
  get: defineRequest('integrations', 'get', one, Integration),
  update: defineRequest(
    'integrations',
    'update',
    one.extend({ name: text().trim().min(1).max(200).optional(), config: IntegrationConfig.optional() }),
    Integration,
  ),
  delete: defineRequest('integrations', 'delete', one, Deleted),
  // Not `integrations.test`: handler files are named after their subject, and *.test.ts are test files.
  test: defineRequest('integrations', 'test_connection', one.extend({ trigger: TestTrigger.default('api') }), ConnectionTest, CONNECTING_MS),
  connect: defineRequest('integrations', 'connect', one, Integration),
  disconnect: defineRequest('integrations', 'disconnect', one, Integration),
  replaceCredential: defineRequest(
    'integrations',
    'credentials.replace',
    one.extend({ credential: PostgresCredential }),
    Integration,
    CONNECTING_MS,
  ),
  startSync: defineRequest('integrations', 'syncs.start', one.extend({ idempotency: IdempotencyRef.optional() }), Sync),
} as const;

export const SchemaFilter = z.object({
  schema: text().min(1).max(128).optional(),
  table: text().min(1).max(128).optional(),
});
export type SchemaFilter = z.infer<typeof SchemaFilter>;

/**
 * `?schema=&table=&limit=&cursor=` of the schema route. 100 relations by
 * default: a typical relation (ten columns, keys, an index) is 2–4 KB as
 * JSON, so a page stays well inside the 1 MiB a NATS reply carries; up to
 * 1,000 for bulk readers. A page holds fewer when more would not fit in one
 * reply, and says so with a next_cursor.
 */
export const SchemaQuery = SchemaFilter.extend({
  limit: z.coerce.number().int().min(1).max(1_000).default(100).describe('Relations per page, at most 1,000 (fewer when they would not fit in one response)'),
  // A cursor names a relation: two identifiers of up to 63 bytes each, JSON-escaped, in base64.
  cursor: text().max(1_024).optional().describe('`next_cursor` of the previous page'),
});
export type SchemaQuery = z.infer<typeof SchemaQuery>;

export const SchemaSnapshot = Catalog.extend({ sync_id: z.uuid(), integration_id: z.uuid() });
export type SchemaSnapshot = z.infer<typeof SchemaSnapshot>;

/** One page of the latest catalog: its head (schemas, enums) and a page of relations, with the foreign keys among them. */
export const SchemaPage = SchemaSnapshot.extend({
  relations: z.array(CatalogRelation).describe("This page's relations, by schema and name"),
  relationships: Catalog.shape.relationships.describe("The foreign keys of this page's relations"),
  next_cursor: text().nullable().describe('Pass as `cursor` for the next page; null on the last. Pages keep to the snapshot of the first page.'),
});
export type SchemaPage = z.infer<typeof SchemaPage>;

/** Where the API serves a whole change set (referenced by events.schema.changed and the change list). */
export const changeSetPath = (integrationId: string, syncId: string): string => `/v1/integrations/${integrationId}/schema/changes/${syncId}`;

export const ChangeSet = z.object({
  sync_id: z.uuid(),
  previous_sync_id: z.uuid(),
  detected_at: z.iso.datetime(),
  changes: z.array(SchemaChange),
});
export type ChangeSet = z.infer<typeof ChangeSet>;

/** A change set in the list: its first changes (as many as fit), how many there are, and where the rest are. */
export const ChangeSetSummary = ChangeSet.extend({
  changes: z.array(SchemaChange).describe('The first changes of the set (at most 100, fewer when they would not fit in one response)'),
  total: z.number().int(),
  truncated: z.boolean().describe('True when `changes` holds fewer than `total`'),
  changes_url: text().describe('Path of the whole change set (paged)'),
});
export type ChangeSetSummary = z.infer<typeof ChangeSetSummary>;
export const ChangeSetList = pageOf(ChangeSetSummary);
export type ChangeSetList = z.infer<typeof ChangeSetList>;

/** `?limit=&cursor=` of one change set: 200 changes by default, at most 1,000 (fewer when they would not fit). */
export const ChangeSetQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1_000).default(200).describe('Changes per page, at most 1,000 (fewer when they would not fit in one response)'),
  cursor: text().max(200).optional().describe('`next_cursor` of the previous page'),
});
export type ChangeSetQuery = z.infer<typeof ChangeSetQuery>;

/** A page of one change set, in the order the diff made it. */
export const ChangeSetPage = ChangeSet.extend({
  total: z.number().int(),
  next_cursor: text().nullable(),
});
export type ChangeSetPage = z.infer<typeof ChangeSetPage>;

export { CatalogRelation };

export const syncRequests = {
  start: defineRequest(
    'sync-worker',
    'syncs.start',
    z.object({
      ...tenant,
      integration_id: z.uuid(),
      integration: SyncTarget,
      trigger: SyncTrigger,
      /** A caller-chosen id (deterministic, for a retry-safe start): a second start with it answers the same sync. */
      sync_id: z.uuid().optional(),
    }),
    Sync,
  ),
  get: defineRequest('sync-worker', 'syncs.get', z.object({ ...tenant, sync_id: z.uuid() }), Sync),
  list: defineRequest('sync-worker', 'syncs.list', z.object({ ...tenant, integration_id: z.uuid(), ...page }), SyncList),
  latest: defineRequest(
    'sync-worker',
    'syncs.latest',
    z.object({ ...tenant, integration_ids: z.array(z.uuid()).max(1_000) }),
    z.object({ data: z.array(Sync) }),
  ),
  cancel: defineRequest('sync-worker', 'syncs.cancel', z.object({ ...tenant, sync_id: z.uuid() }), Sync),
  /** Cancels the active sync of an integration, if any (used when it is deleted or disconnected). */
  cancelActive: defineRequest(
    'sync-worker',
    'syncs.cancel_active',
    z.object({ ...tenant, integration_id: z.uuid(), reason: text().max(200) }),
    z.object({ cancelled: z.uuid().nullable() }),
  ),
  schema: defineRequest(
    'sync-worker',
    'schema.get',
    z.object({ ...tenant, integration_id: z.uuid(), ...SchemaQuery.shape }),
    SchemaPage,
    15_000,
  ),
  changes: defineRequest('sync-worker', 'schema.changes', z.object({ ...tenant, integration_id: z.uuid(), ...page }), ChangeSetList),
  changeSet: defineRequest(
    'sync-worker',
    'schema.changes.get',
    z.object({ ...tenant, integration_id: z.uuid(), sync_id: z.uuid(), ...ChangeSetQuery.shape }),
    ChangeSetPage,
  ),
} as const;
