import type { monitorApiRequests } from '@switchyard/contracts';
import { withTransaction, type Handler } from '@switchyard/kit';
import { deleteRule } from '../repo/alert-rules.ts';
import type { Deps } from './deps.ts';

/** monitor.alert_rules.delete: its firing alerts resolve at the next evaluation (announced, as any resolution). */
export const deleteAlertRule =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof monitorApiRequests.deleteRule> =>
  async ({ tenant_id, operator, id }) => {
    await withTransaction(pool, (tx) => deleteRule(tx, { tenant_id, operator }, id));
    return { deleted: true as const };
  };
