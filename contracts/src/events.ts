import { z } from 'zod';
import { text } from './text.ts';
import { Role } from './api/api-keys.ts';
import { Integration, Sync, SyncTrigger } from './api/integrations.ts';
import { SchemaChange } from './catalog.ts';
import type { ServiceName } from './services.ts';
import { AlertEvent, ConnectionTested, HealthChanged } from './monitor.ts';

/**
 * CloudEvents 1.0 envelope (structured mode, JSON) plus the `tenantid`
 * extension attribute. `id` doubles as the JetStream `Nats-Msg-Id`.
 */
export const cloudEvent = <T extends z.ZodType>(type: string, data: T) =>
  z.object({
    specversion: z.literal('1.0'),
    id: text().min(1),
    source: text().min(1),
    type: z.literal(type),
    time: z.iso.datetime(),
    subject: text().optional(),
    datacontenttype: z.literal('application/json'),
    tenantid: text(),
    data,
  });

export const ApiKeyCreated = z.object({ key_id: z.uuid(), tenant_id: text(), role: Role, name: text() });
export type ApiKeyCreated = z.infer<typeof ApiKeyCreated>;
export const ApiKeyRevoked = z.object({ key_id: z.uuid(), tenant_id: text() });
export type ApiKeyRevoked = z.infer<typeof ApiKeyRevoked>;

const IntegrationRef = z.object({ integration_id: z.uuid(), tenant_id: text() });
export const IntegrationEvent = z.object({ integration: Integration });
export type IntegrationEvent = z.infer<typeof IntegrationEvent>;
export const IntegrationDeleted = IntegrationRef;
export type IntegrationDeleted = z.infer<typeof IntegrationDeleted>;
export const CredentialsRotated = IntegrationRef.extend({ version: z.number().int() });
export type CredentialsRotated = z.infer<typeof CredentialsRotated>;
export const SyncEvent = z.object({ sync: Sync });
export type SyncEvent = z.infer<typeof SyncEvent>;
export const SyncStarted = z.object({ sync: Sync, trigger: SyncTrigger });
export type SyncStarted = z.infer<typeof SyncStarted>;
/**
 * Drift found by a sync. Events are small: a large change set travels as the
 * changes that fit in one event, its total and a reference (`changes_url`,
 * served by the API) to the whole set.
 */
export const SchemaChanged = IntegrationRef.extend({
  sync_id: z.uuid(),
  previous_sync_id: z.uuid(),
  changes: z.array(SchemaChange).describe('The first changes of the set, as many as fit in one event; `truncated` says when there were more'),
  total: z.number().int(),
  truncated: z.boolean(),
  changes_url: text().describe('Path of the whole change set in the API (GET, paged with limit and cursor)'),
});
export type SchemaChanged = z.infer<typeof SchemaChanged>;

/**
 * The event catalog: subject → data schema. The subject is also the
 * CloudEvents `type` (as `switchyard.<aggregate>.<what>`), so one name
 * identifies an event everywhere.
 */
export const events = {
  'events.api_key.created': ApiKeyCreated,
  'events.api_key.revoked': ApiKeyRevoked,
  'events.integration.created': IntegrationEvent,
  'events.integration.updated': IntegrationEvent,
  'events.integration.deleted': IntegrationDeleted,
  'events.integration.connected': IntegrationEvent,
  'events.integration.disconnected': IntegrationEvent,
  'events.integration.credentials_rotated': CredentialsRotated,
  'events.sync.started': SyncStarted,
  'events.sync.progress': SyncEvent,
  'events.sync.completed': SyncEvent,
  'events.sync.failed': SyncEvent,
  'events.sync.cancelled': SyncEvent,
  'events.schema.changed': SchemaChanged,
  'events.integration.connection_tested': ConnectionTested,
  'events.integration.health_changed': HealthChanged,
  'events.alert.fired': AlertEvent,
  'events.alert.resolved': AlertEvent,
} as const;
export type EventCatalog = typeof events;
export type EventSubject = keyof EventCatalog;

/**
 * The one service that may publish each event: its NATS user may publish that
 * subject and no other service's (deploy/nats follows from this map). An
 * event without an owner does not compile.
 */
export const eventOwners: { readonly [S in EventSubject]: ServiceName } = {
  'events.api_key.created': 'gateway',
  'events.api_key.revoked': 'gateway',
  'events.integration.created': 'integrations',
  'events.integration.updated': 'integrations',
  'events.integration.deleted': 'integrations',
  'events.integration.connected': 'integrations',
  'events.integration.disconnected': 'integrations',
  'events.integration.credentials_rotated': 'integrations',
  'events.sync.started': 'sync-worker',
  'events.sync.progress': 'sync-worker',
  'events.sync.completed': 'sync-worker',
  'events.sync.failed': 'sync-worker',
  'events.sync.cancelled': 'sync-worker',
  'events.schema.changed': 'sync-worker',
  'events.integration.connection_tested': 'integrations',
  // The monitor decides health and alerts, so it announces them.
  'events.integration.health_changed': 'monitor',
  'events.alert.fired': 'monitor',
  'events.alert.resolved': 'monitor',
};
export type EventData<S extends EventSubject> = z.infer<EventCatalog[S]>;

export const eventType = (subject: EventSubject) => `switchyard.${subject.slice('events.'.length)}`;
export const eventSchema = <S extends EventSubject>(subject: S) => cloudEvent(eventType(subject), events[subject]);
type Envelope = z.infer<ReturnType<typeof cloudEvent<z.ZodUnknown>>>;
/** An event of the catalog: the CloudEvents envelope with the data of its subject. */
export type CloudEvent<S extends EventSubject = EventSubject> = Omit<Envelope, 'data'> & { data: EventData<S> };
