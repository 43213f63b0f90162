import { z } from 'zod';
import { text } from './text.ts';

export const ServiceName = z.enum([
  'gateway',
  'integrations',
  'credentials',
  'sync-worker',
  'webhook-dispatcher',
  'monitor',
  'orchestrator',
]);
export type ServiceName = z.infer<typeof ServiceName>;
export const SERVICE_NAMES = ServiceName.options;

/** Each service's default health port (/healthz, /readyz, /metrics), distinct so one machine runs all seven. */
export const HEALTH_PORTS: Record<ServiceName, number> = {
  gateway: 9200,
  integrations: 9201,
  credentials: 9202,
  'sync-worker': 9203,
  'webhook-dispatcher': 9204,
  monitor: 9205,
  orchestrator: 9206,
};

export const DependencyName = z.enum(['postgres', 'redis', 'nats']);
export type DependencyName = z.infer<typeof DependencyName>;

export const DependencyHealth = z.object({
  status: z.enum(['up', 'down']),
  latency_ms: z.number().nonnegative().optional(),
  error: text().optional(),
});
export type DependencyHealth = z.infer<typeof DependencyHealth>;

export const ServiceStatus = z.object({
  service: ServiceName,
  instance_id: text(),
  version: text(),
  started_at: z.iso.datetime(),
  uptime_s: z.number().nonnegative(),
  state: z.enum(['starting', 'ready', 'draining']),
  dependencies: z.partialRecord(DependencyName, DependencyHealth),
});
export type ServiceStatus = z.infer<typeof ServiceStatus>;

/** What every instance announces to the monitor on an interval (and once more when it stops). */
export const Heartbeat = ServiceStatus.extend({
  host: text(),
  pid: z.number().int(),
  interval_ms: z.number().int().positive(),
  stopping: z.boolean().default(false),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

export const ServiceInstance = ServiceStatus.extend({
  host: text(),
  pid: z.number().int(),
  last_seen: z.iso.datetime(),
  healthy: z.boolean(),
});
export type ServiceInstance = z.infer<typeof ServiceInstance>;
