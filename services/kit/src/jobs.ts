import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { jetstream, JetStreamApiError, type Consumer, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { deadLetterSubject, type ConsumerDef, type DeadLetter } from '@switchyard/contracts';
import { ZodError, type z } from 'zod';
import { AppError, fieldErrors, isAppError } from './errors.ts';
import type { Logger } from './logger.ts';
import { counter, secondsHistogram } from './instruments.ts';
import { extractTrace } from './nats.ts';

const tracer = trace.getTracer('switchyard.jobs');
const outcomes = counter('switchyard.jobs', 'switchyard_jobs', 'Jobs and events handled, by consumer and outcome (ok, retry, dead_letter, poison, superseded, handed_back)');
const duration = secondsHistogram('switchyard.jobs', 'switchyard_job_duration_seconds', 'Time to run a job or handle an event');

export interface JobContext {
  subject: string;
  /** 1 on the first delivery. */
  attempt: number;
  lastAttempt: boolean;
  /** The consumer's ack wait as provisioned: the job must show life (working()) more often than this. */
  ackWaitMs: number;
  log: Logger;
  /** Tells JetStream the job is alive (also done automatically on an interval). */
  working(): void;
  /** Aborted when the process is shutting down and the job ran past its share of the deadline. */
  signal: AbortSignal;
}

export type JobFailure = { reason: 'poison' | 'permanent' | 'exhausted'; error: AppError; deliveries: number };

/**
 * Thrown by a handler or a retry hook whose delivery no longer owns its job:
 * JetStream redelivered the message (this delivery's ack wait ran out) and a
 * newer delivery took it over. The runner then neither acks nor naks: either
 * would act on the message the newer delivery holds (an ack from an old
 * delivery deletes a work-queue message).
 */
export class JobSuperseded extends Error {
  override readonly name = 'JobSuperseded';
}

export interface JobRunnerOptions<S extends z.ZodType> {
  nc: NatsConnection;
  consumer: ConsumerDef;
  schema: S;
  handler: (payload: z.output<S>, ctx: JobContext) => Promise<void>;
  log: Logger;
  concurrency: number;
  /** Delay before redelivery of a retryable failure; `attempt` starts at 1. */
  backoffMs?: (attempt: number) => number;
  /** Called before a failed delivery (`attempt`) is handed back for another after `delayMs`; throw JobSuperseded to leave the message alone. */
  onRetry?: (payload: z.output<S>, error: AppError, delayMs: number, attempt: number) => Promise<void>;
  /** Called once when a job is given up (after it is parked on the dead-letter subject). */
  onGiveUp?: (payload: unknown, failure: JobFailure) => Promise<void>;
}

/**
 * What a handler's failure means: AppErrors say for themselves; a message
 * that breaks its contract (ZodError) will not get better; anything else (a
 * dropped connection, say) is worth another try. Unknown errors keep their
 * text in the logs only.
 */
function classify(err: unknown): AppError {
  if (isAppError(err)) return err;
  if (err instanceof ZodError)
    return new AppError('VALIDATION_FAILED', 'a message did not match its contract', { cause: err, retryable: false });
  return new AppError('INTERNAL', 'internal error', { cause: err, retryable: true });
}

const isNotFound = (e: unknown) => e instanceof JetStreamApiError && (e.code === 404 || /not found/i.test(e.message));

export const exponentialBackoff =
  (baseMs = 1_000, maxMs = 60_000) =>
  (attempt: number) => {
    const raw = Math.min(baseMs * 2 ** (attempt - 1), maxMs);
    return Math.round(raw * (0.8 + Math.random() * 0.4));
  };

/**
 * Pulls jobs from a durable consumer with at most `concurrency` in flight.
 * Outcomes live here, once: parse failure → term; retryable → nak(backoff)
 * until the last delivery, then dead-letter and ack; permanent → dead-letter
 * and term; long work → working() on an interval; superseded → nothing.
 *
 * The handler gets `consumer.maxDeliver` attempts, and JetStream one delivery
 * more (see provision): a message whose final delivery was never settled (its
 * worker died) would otherwise stay in a work-queue stream, never delivered
 * again. That spare delivery only gives the job up.
 */
export class JobRunner<S extends z.ZodType> {
  private readonly js: JetStreamClient;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private slotFreed?: () => void;
  private loop?: Promise<void>;
  private stopFetch?: () => void;
  private readonly abort = new AbortController();
  /** The consumer's settings as provisioned (the declaration in contracts is what a provisioner applies, maybe tuned). */
  private settings?: { ackWaitMs: number; maxDeliver: number };
  private settled?: (s: { ackWaitMs: number; maxDeliver: number }) => void;
  /** Resolves with the consumer's ack wait and the attempts a job gets once the runner has found its consumer. */
  readonly ready = new Promise<{ ackWaitMs: number; maxDeliver: number }>((r) => (this.settled = r));

  constructor(private readonly o: JobRunnerOptions<S>) {
    this.js = jetstream(o.nc);
  }

  start(): void {
    this.loop = this.run();
  }

  /** Stops pulling new jobs (the jobs in flight go on). */
  async stopPulling(): Promise<void> {
    this.stopped = true;
    this.stopFetch?.();
    this.slotFreed?.();
    await this.loop;
  }

  /**
   * Stops pulling and waits for the jobs in flight, at most `budgetMs`; then
   * aborts them (ctx.signal) and hands them back to JetStream at once, so
   * another worker takes them over instead of waiting out the ack wait.
   */
  async stop(budgetMs = Infinity): Promise<void> {
    await this.stopPulling();
    const all = Promise.allSettled([...this.inFlight]);
    if (Number.isFinite(budgetMs)) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), budgetMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.o.log.warn({ jobs: this.inFlight.size }, 'jobs still running at the shutdown budget: handing them back');
        this.abort.abort(new Error('shutting down'));
      }
    }
    await all;
  }

  get active(): number {
    return this.inFlight.size;
  }

  private async run() {
    const { stream, durable } = this.o.consumer;
    let consumer: Consumer | undefined;
    let missing = 0;
    while (!this.stopped) {
      const free = this.o.concurrency - this.inFlight.size;
      if (free <= 0) {
        await new Promise<void>((r) => (this.slotFreed = r));
        continue;
      }
      try {
        if (!consumer) {
          // The provisioner creates it; a service only looks it up (and waits for it).
          consumer = await this.js.consumers.get(stream, durable);
          const { config } = await consumer.info(true);
          // JetStream holds one spare delivery (provision.ts): the handler's attempts are one fewer.
          const attempts = config.max_deliver && config.max_deliver > 1 ? config.max_deliver - 1 : this.o.consumer.maxDeliver;
          this.settings = { ackWaitMs: Math.round((config.ack_wait ?? 0) / 1e6) || this.o.consumer.ackWaitMs, maxDeliver: attempts };
          this.settled?.(this.settings);
          missing = 0;
        }
        const batch = await consumer.fetch({ max_messages: free, expires: 2_000 });
        this.stopFetch = () => batch.stop();
        for await (const m of batch) {
          const p = this.process(m).finally(() => {
            this.inFlight.delete(p);
            this.slotFreed?.();
          });
          this.inFlight.add(p);
        }
      } catch (err) {
        if (this.stopped) break;
        consumer = undefined;
        if (isNotFound(err)) {
          // Logged once, then every minute: provisioning has not run (yet).
          if (missing++ % 60 === 0) this.o.log.warn({ stream, durable }, 'consumer not provisioned yet; waiting for it');
        } else this.o.log.warn({ err, stream, durable }, 'job fetch failed; retrying');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  private async process(m: JsMsg) {
    const started = performance.now();
    const attempt = m.info.deliveryCount;
    const { ackWaitMs, maxDeliver } = this.settings ?? this.o.consumer;
    const last = attempt >= maxDeliver;
    const log = this.o.log.child({ job_subject: m.subject, attempt });
    const parent = extractTrace(m.headers);

    await tracer.startActiveSpan(
      `${m.subject} process`,
      { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': m.subject } },
      parent,
      async (span) => {
        let payload: unknown;
        try {
          payload = m.json();
        } catch {
          payload = undefined;
        }
        const parsed = this.o.schema.safeParse(payload);
        if (!parsed.success) {
          const error = new AppError('VALIDATION_FAILED', 'job does not match its contract', {
            errors: fieldErrors(parsed.error.issues),
          });
          log.error({ errors: error.errors }, 'poison job dropped');
          await this.giveUp(m, payload, { reason: 'poison', error, deliveries: attempt });
          // No reason: nats-server 2.9 ignores "+TERM <reason>" and would redeliver (the reason is logged above).
          m.term();
          outcomes().add(1, { consumer: this.o.consumer.durable, outcome: 'poison' });
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'poison' });
          span.end();
          return;
        }

        if (attempt > maxDeliver) {
          const error = new AppError('UNAVAILABLE', 'the worker running its final attempt stopped before it finished');
          log.error({ reason: 'exhausted' }, 'job given up: its final attempt never finished');
          await this.giveUp(m, parsed.data, { reason: 'exhausted', error, deliveries: attempt - 1 });
          m.ack();
          outcomes().add(1, { consumer: this.o.consumer.durable, outcome: 'dead_letter' });
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'exhausted' });
          span.end();
          return;
        }

        const interval = Math.max(1_000, Math.floor(ackWaitMs / 3));
        const heartbeat = setInterval(() => m.working(), interval);
        try {
          await this.o.handler(parsed.data, {
            subject: m.subject,
            attempt,
            lastAttempt: last,
            ackWaitMs,
            log,
            working: () => m.working(),
            signal: this.abort.signal,
          });
          clearInterval(heartbeat);
          await m.ackAck().catch(() => m.ack());
          outcomes().add(1, { consumer: this.o.consumer.durable, outcome: 'ok' });
        } catch (err) {
          clearInterval(heartbeat);
          if (err instanceof JobSuperseded) {
            log.info('a newer delivery holds this job; leaving the message to it');
            outcomes().add(1, { consumer: this.o.consumer.durable, outcome: 'superseded' });
            return;
          }
          if (this.abort.signal.aborted) {
            // Not a failure of the job: this process is going away. Redeliver now, elsewhere.
            m.nak(0);
            outcomes().add(1, { consumer: this.o.consumer.durable, outcome: 'handed_back' });
            return;
          }
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          const error = classify(err);
          if (error.retryable && !last) {
            const delay = (this.o.backoffMs ?? exponentialBackoff())(attempt);
            log.warn({ err, retry_in_ms: delay }, 'job failed; will retry');
            let superseded = false;
            try {
              await this.o.onRetry?.(parsed.data, error, delay, attempt);
            } catch (e) {
              if (e instanceof JobSuperseded) superseded = true;
              else log.warn({ err: e }, 'retry hook failed');
            }
            if (superseded) {
              log.info('a newer delivery holds this job; not handing it back');
              outcomes().add(1, { consumer: this.o.consumer.durable, outcome: 'superseded' });
              return;
            }
            m.nak(delay);
            outcomes().add(1, { consumer: this.o.consumer.durable, outcome: 'retry' });
          } else {
            const reason = error.retryable ? 'exhausted' : 'permanent';
            log.error({ err, reason }, 'job failed for good');
            await this.giveUp(m, parsed.data, { reason, error, deliveries: attempt });
            if (reason === 'exhausted') m.ack();
            else m.term(); // no reason, as above: 2.9 ignores it
            outcomes().add(1, { consumer: this.o.consumer.durable, outcome: 'dead_letter' });
          }
        } finally {
          duration().record((performance.now() - started) / 1_000, { consumer: this.o.consumer.durable });
          span.end();
        }
      },
    );
  }

  private async giveUp(m: JsMsg, payload: unknown, failure: JobFailure) {
    const { stream, durable } = this.o.consumer;
    const letter: DeadLetter = {
      stream,
      consumer: durable,
      subject: m.subject,
      deliveries: failure.deliveries,
      reason: failure.reason,
      error: { code: failure.error.code, message: failure.error.message },
      // A job that was not JSON has no payload; null keeps the letter valid against DeadLetter.
      payload: payload ?? null,
      failed_at: new Date().toISOString(),
    };
    try {
      await this.js.publish(deadLetterSubject(stream, durable), JSON.stringify(letter), {
        msgID: `${stream}:${m.seq}`,
      });
    } catch (err) {
      this.o.log.error({ err }, 'could not park job on the dead-letter stream');
    }
    if (this.o.onGiveUp) {
      try {
        await this.o.onGiveUp(payload, failure);
      } catch (err) {
        this.o.log.error({ err }, 'give-up hook failed');
      }
    }
  }
}
