import { z } from 'zod';
import { text } from './text.ts';
import { CursorQuery, pageOf } from './api/pagination.ts';
import { SERVICE_NAMES, ServiceInstance, ServiceStatus, type ServiceName } from './services.ts';

/**
 * A request route: the one object both the handler and the caller import, so
 * they cannot drift (subject, request schema, response schema, timeout).
 */
export interface RequestRoute<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  readonly subject: string;
  readonly service: ServiceName;
  readonly request: Req;
  readonly response: Res;
  /** Default client timeout; callers may shorten it. */
  readonly timeoutMs: number;
}

export const defineRequest = <Req extends z.ZodType, Res extends z.ZodType>(
  service: ServiceName,
  verb: string,
  request: Req,
  response: Res,
  timeoutMs = 5_000,
): RequestRoute<Req, Res> => ({ subject: `${service}.${verb}`, service, request, response, timeoutMs });

/**
 * An Idempotency-Key as it travels to the service that does the work: the
 * key, and a fingerprint of the request it came with (the gateway's hash of
 * method, route and body), so a reuse with another request is refused.
 */
export const IdempotencyRef = z.object({
  key: text().regex(/^[\x21-\x7e]{1,255}$/, '1-255 visible ASCII characters'),
  fingerprint: text().regex(/^[0-9a-f]{64}$/),
});
export type IdempotencyRef = z.infer<typeof IdempotencyRef>;

export type RequestOf<R extends RequestRoute> = z.input<R['request']>;
export type ResponseOf<R extends RequestRoute> = z.output<R['response']>;

export const StatusRequest = z.object({}).strict();
export type StatusRequest = z.infer<typeof StatusRequest>;

const statusRoute = (service: ServiceName) => defineRequest(service, 'status', StatusRequest, ServiceStatus, 2_000);

/** `<service>.status` for every service. */
export const statusRequests = Object.fromEntries(SERVICE_NAMES.map((s) => [s, statusRoute(s)])) as Record<
  ServiceName,
  ReturnType<typeof statusRoute>
>;

/**
 * Why an outbox row was parked: larger than the NATS server's max_payload,
 * refused by the server's permissions, or not a message NATS can carry (an
 * invalid subject, say). None of them passes by waiting.
 */
export const ParkedReason = z.enum(['too_large', 'forbidden', 'invalid']);
export type ParkedReason = z.infer<typeof ParkedReason>;

/** A parked outbox row, without its payload (which may be what is too large, and is the tenant's). */
export const ParkedMessage = z.object({
  id: z.uuid().describe('The event id (Nats-Msg-Id)'),
  subject: text(),
  reason: ParkedReason,
  error: text(),
  attempts: z.number().int(),
  bytes: z.number().int().describe('Size of the payload as JSON'),
  created_at: z.iso.datetime(),
  parked_at: z.iso.datetime(),
});
export type ParkedMessage = z.infer<typeof ParkedMessage>;
export const ParkedList = pageOf(ParkedMessage);
export type ParkedList = z.infer<typeof ParkedList>;
export const RetryParkedRequest = z.object({ id: z.uuid() });
export type RetryParkedRequest = z.infer<typeof RetryParkedRequest>;

const outboxRoutes = (service: ServiceName) => ({
  /** The service's parked outbox rows, newest first. */
  parked: defineRequest(service, 'outbox.parked', CursorQuery, ParkedList),
  /** Moves a parked row back to the end of the outbox; if it still cannot pass, it is parked again. */
  retry: defineRequest(service, 'outbox.retry', RetryParkedRequest, ParkedMessage),
});

/** `<service>.outbox.parked` and `<service>.outbox.retry` for every service, served by the kit's runtime. */
export const outboxRequests = Object.fromEntries(SERVICE_NAMES.map((s) => [s, outboxRoutes(s)])) as Record<
  ServiceName,
  ReturnType<typeof outboxRoutes>
>;

export const ListInstancesRequest = z.object({ include_stale: z.boolean().default(false) });
export type ListInstancesRequest = z.infer<typeof ListInstancesRequest>;
export const ListInstancesResponse = z.object({ instances: z.array(ServiceInstance) });
export type ListInstancesResponse = z.infer<typeof ListInstancesResponse>;

export const monitorRequests = {
  listInstances: defineRequest('monitor', 'instances.list', ListInstancesRequest, ListInstancesResponse),
} as const;

/** Fire-and-forget signals on core NATS (no reply expected). */
export const signals = {
  heartbeat: 'monitor.heartbeat',
} as const;
