import type { monitorApiRequests } from '@switchyard/contracts';
import { withTransaction, type Handler } from '@switchyard/kit';
import { updateRule } from '../repo/alert-rules.ts';
import type { Deps } from './deps.ts';

/** monitor.alert_rules.update: another tenant's rule is not found; the next evaluation applies the change. */
export const updateAlertRule =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof monitorApiRequests.updateRule> =>
  async ({ tenant_id, operator, id, body }) =>
    withTransaction(pool, async (tx) => (await updateRule(tx, { tenant_id, operator }, id, body)).rule);
