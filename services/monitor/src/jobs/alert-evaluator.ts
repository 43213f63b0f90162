import { durationSeconds, type QueueList } from '@switchyard/contracts';
import { withTransaction, type Logger, type Pool } from '@switchyard/kit';
import { holds, step, type Open } from '../domain/alerting.ts';
import { enabledRules } from '../repo/alert-rules.ts';
import { allOpen, fire, openAlerts, openPending, resolve, touch, type AlertRow } from '../repo/alerts.ts';
import { SeriesSource } from './series.ts';

export interface EvaluatorDeps {
  pool: Pool;
  log: Logger;
  readQueues: () => Promise<QueueList>;
  staleAfterBeats: number;
}

const openOf = (a: AlertRow | undefined): Open =>
  !a ? undefined : a.state === 'pending' ? { state: 'pending', activeSince: a.active_since } : { state: 'firing', clearSince: a.clear_since };

/**
 * Evaluates every enabled rule once, in one transaction that one replica at a
 * time may hold (an advisory lock; the others skip this round), so an alert
 * fires and resolves once however many monitors run. The fired and resolved
 * events go through the outbox in the same transaction as the state change.
 * Returns false when another replica held the lock.
 */
export async function evaluateAlerts(d: EvaluatorDeps, now = new Date()): Promise<boolean> {
  return withTransaction(d.pool, async (tx) => {
    const { rows } = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('switchyard:monitor:alerts')) AS ok`);
    if (!rows[0]?.ok) return false;
    const rules = await enabledRules(tx);
    const source = new SeriesSource(tx, { readQueues: d.readQueues, staleAfterBeats: d.staleAfterBeats, now });
    for (const rule of rules) {
      const forSeconds = durationSeconds(rule.for_text);
      const open = await openAlerts(tx, rule.id);
      for (const s of await source.of(rule)) {
        const current = open.get(s.series);
        open.delete(s.series);
        const action = step(openOf(current), holds(s.value, rule.comparator, rule.threshold), forSeconds, now);
        if (action.do === 'open') {
          const pending = await openPending(tx, rule, { ...s, value: s.value! }, now);
          if (action.fireNow) await fire(tx, pending, s.value!, now);
        } else if (action.do === 'fire') await fire(tx, current!, s.value!, now);
        else if (action.do === 'resolve' || action.do === 'drop') await resolve(tx, current!, s.value, now);
        else if (action.do === 'keep') await touch(tx, current!, { value: s.value, clearSince: action.clearSince });
      }
      // A series that is gone (an integration deleted or disconnected) counts as a false condition.
      for (const a of open.values()) {
        const action = step(openOf(a), false, forSeconds, now);
        if (action.do === 'resolve' || action.do === 'drop') await resolve(tx, a, null, now);
        else if (action.do === 'keep') await touch(tx, a, { value: null, clearSince: action.clearSince });
      }
    }
    // A rule deleted or disabled resolves its alerts at once.
    const live = new Set(rules.map((r) => r.id));
    for (const a of await allOpen(tx)) if (!live.has(a.rule_id)) await resolve(tx, a, null, now);
    return true;
  });
}
