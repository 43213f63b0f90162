import { z } from 'zod';
import { text } from './text.ts';
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
