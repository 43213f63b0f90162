import type { monitorApiRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { listRules, seedTenantRules } from '../repo/alert-rules.ts';
import type { Deps } from './deps.ts';

/** monitor.alert_rules.list: the tenant's rules (its defaults seeded on first sight); the operator also sees system rules. */
export const listAlertRules =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof monitorApiRequests.listRules> =>
  async (caller) => {
    await seedTenantRules(pool, caller.tenant_id);
    return { data: await listRules(pool, caller) };
  };
