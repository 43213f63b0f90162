import { z } from 'zod';
import { text } from '../text.ts';
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
