import { z } from 'zod';
import { DependencyHealth, ServiceInstance, ServiceName } from '../services.ts';

export const ServiceSummary = z.object({
  service: ServiceName,
  healthy: z.boolean(),
  instances: z.array(ServiceInstance),
});
export type ServiceSummary = z.infer<typeof ServiceSummary>;

export const SystemStatus = z.object({
  status: z.enum(['ok', 'degraded']),
  services: z.array(ServiceSummary),
  checked_at: z.iso.datetime(),
});
export type SystemStatus = z.infer<typeof SystemStatus>;

export const HealthReport = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  checks: z.record(z.string(), DependencyHealth),
});
export type HealthReport = z.infer<typeof HealthReport>;

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.string().optional(),
    reason: z.string().optional().describe('For CONNECTION_FAILED: why the connection failed'),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .describe('RFC 9457 problem details');
export type Problem = z.infer<typeof Problem>;
