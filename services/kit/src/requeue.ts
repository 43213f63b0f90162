import { randomUUID } from 'node:crypto';
import type { ConsumerDef, Requeued, RequeueRequest } from '@switchyard/contracts';
import { withTransaction, type Pool } from './db.ts';
import { AppError } from './errors.ts';
import type { JobContext } from './jobs.ts';
import type { Logger } from './logger.ts';
import { writeMessage } from './outbox.ts';

/** A service's own way to run a dead-lettered job again (the sync-worker starts a new sync, say). */
export type RequeueHook = (payload: unknown, req: RequeueRequest) => Promise<Requeued>;

/** How this process runs a consumer's messages, so one of its dead letters can be run again. */
export type RequeueTarget =
  | { kind: 'jobs'; consumer: ConsumerDef; hook?: RequeueHook }
  | { kind: 'events'; consumer: ConsumerDef; handle: (raw: unknown, ctx: JobContext) => Promise<void> };

/** Whether a NATS subject falls under a filter (`*` one token, `>` the rest). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

/**
 * `<service>.jobs.requeue`: the monitor hands back a dead letter of one of this
 * service's consumers. A job is queued again through the service's outbox (its
 * NATS user may publish its own jobs; the monitor's may not), or the service's
 * own step runs when it has one; an event is handled again, here and now, by
 * the consumer's handler (republishing it would reach every other consumer of
 * the stream too). Only a subject under the consumer's filter is accepted.
 */
export function requeueHandler(targets: Map<string, RequeueTarget>, deps: { pool: Pool; log: Logger }) {
  return async (req: RequeueRequest): Promise<Requeued> => {
    const target = targets.get(`${req.stream}/${req.consumer}`);
    if (!target) throw new AppError('NOT_FOUND', `this service runs no consumer ${req.consumer} on ${req.stream}`);
    if (!subjectMatches(target.consumer.filterSubject, req.subject))
      throw new AppError('VALIDATION_FAILED', `${req.subject} is not a subject of consumer ${req.consumer}`, {
        errors: [{ field: 'subject', message: `must fall under ${target.consumer.filterSubject}` }],
      });
    const log = deps.log.child({ dead_letter_id: req.dead_letter_id, consumer: req.consumer });
    if (target.kind === 'events') {
      const controller = new AbortController();
      await target.handle(req.payload, {
        subject: req.subject,
        attempt: 1,
        lastAttempt: true,
        ackWaitMs: target.consumer.ackWaitMs,
        log,
        working: () => {},
        signal: controller.signal,
      });
      log.info('dead-lettered event handled again');
      return { how: 'handled', detail: `${req.subject} handled again by ${req.consumer}` };
    }
    if (target.hook) return target.hook(req.payload, req);
    await withTransaction(deps.pool, (tx) => writeMessage(tx, req.subject, req.payload, randomUUID()));
    log.info({ subject: req.subject }, 'dead-lettered job queued again');
    return { how: 'republished', detail: `queued again on ${req.subject}` };
  };
}
