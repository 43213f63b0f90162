import { z } from 'zod';
import { text } from '../text.ts';
import { DependencyHealth, ServiceInstance, ServiceName } from '../services.ts';

/** One service as every tenant sees it: whether it is healthy and how many instances run it, nothing about them. */
export const ServiceHealth = z.object({
  service: ServiceName,
  healthy: z.boolean().describe('At least one instance is healthy'),
  instances: z.number().int().nonnegative().describe('Live instances'),
});
export type ServiceHealth = z.infer<typeof ServiceHealth>;

/** `GET /v1/system/status` for a tenant: a health summary. */
export const SystemStatus = z.object({
  status: z.enum(['ok', 'degraded']),
  services: z.array(ServiceHealth),
  checked_at: z.iso.datetime(),
});
export type SystemStatus = z.infer<typeof SystemStatus>;

/** `GET /v1/system/status` for the platform operator: the summary and every live instance (host, pid, dependency errors). */
export const OperatorSystemStatus = SystemStatus.extend({ instances: z.array(ServiceInstance) });
export type OperatorSystemStatus = z.infer<typeof OperatorSystemStatus>;

/** The two views of `GET /v1/system/status`: the operator's first, so its instances are not stripped. */
export const SystemStatusView = z.union([OperatorSystemStatus, SystemStatus]);
export type SystemStatusView = z.infer<typeof SystemStatusView>;

/** `GET /v1/system/instances` (operator only): every instance the monitor knows. */
export const InstancesQuery = z.object({
  include_stale: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('Also list instances that stopped sending heartbeats'),
});
export type InstancesQuery = z.infer<typeof InstancesQuery>;
export const InstanceList = z.object({ instances: z.array(ServiceInstance) });
export type InstanceList = z.infer<typeof InstanceList>;

export const HealthReport = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  checks: z.record(text(), DependencyHealth),
});
export type HealthReport = z.infer<typeof HealthReport>;

export const Problem = z
  .object({
    type: text(),
    title: text(),
    status: z.number().int(),
    detail: text().optional(),
    instance: text().optional(),
    code: text().optional(),
    reason: text().optional().describe('For CONNECTION_FAILED: why the connection failed'),
    errors: z.array(z.object({ field: text(), message: text() })).optional(),
  })
  .describe('RFC 9457 problem details');
export type Problem = z.infer<typeof Problem>;
