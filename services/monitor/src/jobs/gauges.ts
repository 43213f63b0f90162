import type { HealthState, QueueList } from '@switchyard/contracts';
import type { Pool } from '@switchyard/kit';
import { snapshot } from '../metrics.ts';
import { firingBySeverity } from '../repo/alerts.ts';
import { waitingByConsumer } from '../repo/dead-letters.ts';

/** Refreshes what the gauges report (every replica, so a scrape of any of them is current). */
export async function refreshGauges(pool: Pool, readQueues: () => Promise<QueueList>): Promise<void> {
  const [queues, letters, firing, health] = await Promise.all([
    readQueues().catch(() => null),
    waitingByConsumer(pool),
    firingBySeverity(pool),
    pool.query<{ state: HealthState; n: number }>('SELECT state, count(*)::int AS n FROM integration_health GROUP BY state'),
  ]);
  if (queues) snapshot.consumers = queues.streams.flatMap((s) => s.consumers);
  snapshot.deadLetters = letters;
  snapshot.alertsFiring = firing;
  snapshot.health = new Map((['healthy', 'degraded', 'unhealthy', 'unknown'] as const).map((s) => [s, health.rows.find((r) => r.state === s)?.n ?? 0]));
}
