import { createHash } from 'node:crypto';
import { consumers, nameUuid, type DeadLetter, type DeadLetterList, type DeadLetterRecord, type DeadLettersQuery } from '@switchyard/contracts';
import { AppError, decodeCursor, encodeCursor, type Pool, type PoolClient } from '@switchyard/kit';

interface Row {
  id: string;
  stream: string;
  consumer: string;
  service: string;
  subject: string;
  reason: string;
  deliveries: number;
  error_code: string;
  error_message: string;
  payload: unknown;
  failed_at: Date;
  recorded_at: Date;
  replayed_at: Date | null;
  replays: number;
}

const toRecord = (r: Row): DeadLetterRecord => ({
  id: r.id,
  stream: r.stream,
  consumer: r.consumer,
  service: r.service,
  subject: r.subject,
  reason: r.reason,
  deliveries: r.deliveries,
  error: { code: r.error_code, message: r.error_message },
  payload: r.payload,
  failed_at: r.failed_at.toISOString(),
  replayed_at: r.replayed_at?.toISOString() ?? null,
  replays: r.replays,
});

/** The same letter (a redelivery of it) always gets the same id. */
export const letterId = (l: DeadLetter) =>
  nameUuid(`switchyard:deadletter:${createHash('sha256').update(JSON.stringify([l.stream, l.consumer, l.subject, l.failed_at, l.deliveries, l.reason])).digest('hex')}`);

/** The service whose consumer gave the letter up (it replays it); a consumer the contracts do not declare has none. */
export const ownerOf = (l: Pick<DeadLetter, 'stream' | 'consumer'>) =>
  Object.values(consumers).find((c) => c.stream === l.stream && c.durable === l.consumer)?.service;

export async function recordLetter(pool: Pool, l: DeadLetter): Promise<void> {
  await pool.query(
    `INSERT INTO dead_letters (id, stream, consumer, service, subject, reason, deliveries, error_code, error_message, payload, failed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`,
    [letterId(l), l.stream, l.consumer, ownerOf(l) ?? 'unknown', l.subject, l.reason, l.deliveries, l.error.code, l.error.message, JSON.stringify(l.payload ?? null), l.failed_at],
  );
}

/**
 * A page of letters, newest first. A letter carries its job's payload (up to
 * the outbox bound, 128 KiB): the page stops early when the next letter would
 * not fit in `budget` bytes, and its cursor continues from there.
 */
export async function listLetters(pool: Pool, q: DeadLettersQuery, budget: number): Promise<DeadLetterList> {
  const after = q.cursor ? decodeCursor(q.cursor) : null;
  const { rows } = await pool.query<Row>(
    `SELECT * FROM dead_letters
      WHERE ($1::text IS NULL OR consumer = $1) AND ($2::boolean IS NULL OR (replayed_at IS NOT NULL) = $2)
        AND ($3::timestamptz IS NULL OR (recorded_at, id) < ($3::timestamptz, $4::uuid))
      ORDER BY recorded_at DESC, id DESC LIMIT $5`,
    [q.consumer ?? null, q.replayed === undefined ? null : q.replayed === 'true', after?.at ?? null, after?.id ?? null, q.limit + 1],
  );
  const data: DeadLetterRecord[] = [];
  let bytes = 64;
  for (const r of rows.slice(0, q.limit)) {
    const record = toRecord(r);
    bytes += Buffer.byteLength(JSON.stringify(record)) + 1;
    if (bytes > budget && data.length) break;
    data.push(record);
  }
  const last = rows[data.length - 1];
  const more = rows.length > data.length;
  return { data, next_cursor: more && last ? encodeCursor(last.recorded_at, last.id) : null };
}

export async function getLetter(pool: Pool, id: string): Promise<DeadLetterRecord> {
  const { rows } = await pool.query<Row>('SELECT * FROM dead_letters WHERE id = $1', [id]);
  if (!rows[0]) throw new AppError('NOT_FOUND', `dead letter ${id} not found`);
  return toRecord(rows[0]);
}

export async function markReplayed(pool: Pool, id: string): Promise<DeadLetterRecord> {
  const { rows } = await pool.query<Row>(
    `UPDATE dead_letters SET replayed_at = date_trunc('milliseconds', clock_timestamp()), replays = replays + 1 WHERE id = $1 RETURNING *`,
    [id],
  );
  return toRecord(rows[0]!);
}

/** Letters not replayed, by consumer (the gauge and the dead-letter rule). */
export async function waitingByConsumer(pool: Pool | PoolClient): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ consumer: string; n: number }>(
    'SELECT consumer, count(*)::int AS n FROM dead_letters WHERE replayed_at IS NULL GROUP BY consumer',
  );
  const m = new Map<string, number>(Object.values(consumers).map((c) => [c.durable, 0]));
  for (const r of rows) m.set(r.consumer, r.n);
  return m;
}

export async function pruneLetters(pool: Pool, retentionDays: number): Promise<void> {
  await pool.query('DELETE FROM dead_letters WHERE recorded_at < now() - make_interval(days => $1)', [retentionDays]);
}
