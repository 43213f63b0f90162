import { eventSchema, type CloudEvent, type ConsumerDef, type EventSubject } from '@switchyard/contracts';
import { z } from 'zod';
import type { JobContext } from './jobs.ts';

/** A consumer of the EVENTS stream that names the events it acts on. */
export type EventConsumerDef<S extends EventSubject = EventSubject> = ConsumerDef & { events: readonly S[] };

export type EventHandler<S extends EventSubject> = (event: CloudEvent<S>, ctx: JobContext) => Promise<void>;

/** One handler per event the consumer declares: a missing or mistyped one does not compile. */
export type EventHandlers<S extends EventSubject> = { [K in S]: EventHandler<K> };

/** Just enough of a CloudEvent to tell poison (not an event at all) from an event to dispatch. */
export const EventEnvelope = z.looseObject({ specversion: z.literal('1.0'), id: z.string().min(1), type: z.string(), tenantid: z.string() });

/**
 * Dispatches a delivered event to the handler of its subject, after parsing it
 * with that event's schema (a ZodError is permanent: the job runner parks it).
 * Subjects the consumer's filter lets through but it does not act on are
 * acknowledged and skipped.
 */
export function dispatchEvents<S extends EventSubject>(handlers: EventHandlers<S>) {
  const table = handlers as unknown as Partial<Record<EventSubject, EventHandler<EventSubject>>>;
  return async (raw: unknown, ctx: JobContext): Promise<void> => {
    const subject = ctx.subject as EventSubject;
    const handler = table[subject];
    if (!handler) return;
    await handler(eventSchema(subject).parse(raw) as CloudEvent<EventSubject>, ctx);
  };
}
