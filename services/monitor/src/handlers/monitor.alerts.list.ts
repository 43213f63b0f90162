import type { monitorApiRequests } from '@switchyard/contracts';
import type { Handler } from '@switchyard/kit';
import { listAlerts } from '../repo/alerts.ts';
import type { Deps } from './deps.ts';

/** monitor.alerts.list: firing and resolved alerts, newest first (cursor pagination). */
export const listAlertsHandler =
  ({ pool }: Pick<Deps, 'pool'>): Handler<typeof monitorApiRequests.listAlerts> =>
  async ({ tenant_id, operator, query }) =>
    listAlerts(pool, { tenant_id, operator }, query);
