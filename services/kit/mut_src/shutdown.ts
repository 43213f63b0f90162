import type { Logger } from './logger.ts';

/** The order a service stops in; steps of one phase run together. */
export const PHASES = ['not-ready', 'stop-intake', 'in-flight', 'outbox', 'nats', 'resources', 'telemetry'] as const;
export type Phase = (typeof PHASES)[number];

/** Runs registered steps phase by phase, once, within a deadline. */
export class Shutdown {
  private readonly steps = new Map<Phase, { name: string; fn: () => Promise<void> | void }[]>();
  private running?: Promise<boolean>;

  constructor(private readonly log: Logger) {}

  on(phase: Phase, name: string, fn: () => Promise<void> | void): void {
    const list = this.steps.get(phase) ?? [];
    list.push({ name, fn });
    this.steps.set(phase, list);
  }

  /** Resolves true when every step finished before the deadline. */
  run(deadlineMs: number, reason: string): Promise<boolean> {
    this.running ??= this.execute(deadlineMs, reason);
    return this.running;
  }

  private async execute(deadlineMs: number, reason: string): Promise<boolean> {
    const started = Date.now();
    this.log.info({ reason, deadline_ms: deadlineMs }, 'shutting down');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs);
    });
    const work = (async () => {
      for (const phase of PHASES) {
        await Promise.all(
          (this.steps.get(phase) ?? []).map(async (s) => {
            try {
              await s.fn();
            } catch (err) {
              this.log.warn({ err, step: s.name, phase }, 'shutdown step failed');
            }
          }),
        );
      }
      return true as const;
    })();
    const ok = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (ok) this.log.info({ took_ms: Date.now() - started }, 'stopped');
    else this.log.error({ deadline_ms: deadlineMs }, 'shutdown deadline passed; exiting with work unfinished');
    return ok;
  }
}
