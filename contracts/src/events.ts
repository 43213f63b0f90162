import { z } from 'zod';
import { Role } from './api/api-keys.ts';

/**
 * CloudEvents 1.0 envelope (structured mode, JSON) plus the `tenantid`
 * extension attribute. `id` doubles as the JetStream `Nats-Msg-Id`.
 */
export const cloudEvent = <T extends z.ZodType>(type: string, data: T) =>
  z.object({
    specversion: z.literal('1.0'),
    id: z.string().min(1),
    source: z.string().min(1),
    type: z.literal(type),
    time: z.iso.datetime(),
    subject: z.string().optional(),
    datacontenttype: z.literal('application/json'),
    tenantid: z.string(),
    data,
  });

export const ApiKeyCreated = z.object({ key_id: z.uuid(), tenant_id: z.string(), role: Role, name: z.string() });
export type ApiKeyCreated = z.infer<typeof ApiKeyCreated>;
export const ApiKeyRevoked = z.object({ key_id: z.uuid(), tenant_id: z.string() });
export type ApiKeyRevoked = z.infer<typeof ApiKeyRevoked>;

/**
 * The event catalog: subject → data schema. The subject is also the
 * CloudEvents `type` (as `switchyard.<aggregate>.<what>`), so one name
 * identifies an event everywhere.
 */
export const events = {
  'events.api_key.created': ApiKeyCreated,
  'events.api_key.revoked': ApiKeyRevoked,
} as const;
export type EventCatalog = typeof events;
export type EventSubject = keyof EventCatalog;
export type EventData<S extends EventSubject> = z.infer<EventCatalog[S]>;

export const eventType = (subject: EventSubject) => `switchyard.${subject.slice('events.'.length)}`;
export const eventSchema = <S extends EventSubject>(subject: S) => cloudEvent(eventType(subject), events[subject]);
export type CloudEvent<S extends EventSubject = EventSubject> = z.infer<ReturnType<typeof eventSchema<S>>>;
