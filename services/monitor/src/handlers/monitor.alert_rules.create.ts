import type { monitorApiRequests } from '@switchyard/contracts';
import { withTransaction, type Handler } from '@switchyard/kit';
import { createRule, seedTenantRules } from '../repo/alert-rules.ts';
import type { Deps } from './deps.ts';

/** monitor.alert_rules.create: system rules are the platform operator's only (403 otherwise). */
export const createAlertRule =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof monitorApiRequests.createRule> =>
  async ({ tenant_id, operator, body }) =>
    withTransaction(pool, async (tx) => {
      await seedTenantRules(tx, tenant_id);
      return createRule(tx, { tenant_id, operator }, body);
    });
