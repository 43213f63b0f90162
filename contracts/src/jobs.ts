import { z } from 'zod';
import { text } from './text.ts';
import { SyncTarget } from './api/integrations.ts';

export const SyncJob = z.object({
  sync_id: z.uuid(),
  integration_id: z.uuid(),
  tenant_id: text(),
  integration: SyncTarget,
  /**
   * Which job of the sync this is: 0 when it starts, one more each time the
   * sweeper re-enqueues a sync whose job was lost. A worker claims the sync
   * only with the generation its row expects, so an old job that turns up
   * late is dropped instead of running the sync twice.
   */
  generation: z.number().int().min(0).default(0),
});
export type SyncJob = z.infer<typeof SyncJob>;

/** A job that exhausted its deliveries or was poison, as parked on the dead-letter stream. */
export const DeadLetter = z.object({
  stream: text(),
  consumer: text(),
  subject: text(),
  deliveries: z.number().int(),
  reason: text(),
  error: z.object({ code: text(), message: text() }),
  payload: z.unknown(),
  failed_at: z.iso.datetime(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

/** Job kinds: subject prefix → payload. A job's subject is `<prefix>.<key>`. */
export const jobs = {
  sync: { prefix: 'jobs.sync', payload: SyncJob, key: (j: SyncJob) => j.integration_id },
} as const;
export const jobSubject = <K extends keyof typeof jobs>(kind: K, payload: z.infer<(typeof jobs)[K]['payload']>) =>
  `${jobs[kind].prefix}.${jobs[kind].key(payload)}`;
export const deadLetterSubject = (stream: string, consumer: string) => `deadletter.${stream}.${consumer}`;
