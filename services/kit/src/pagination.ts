import { AppError } from './errors.ts';

// Year 0000 is a valid JavaScript date but not a PostgreSQL one (its cast would fail as a 500).
const ISO_MS = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Keyset pagination cursors: opaque to clients, (created_at, id) inside, so a
 * page never skips or repeats a row when rows are added meanwhile. Paged
 * timestamps are stored at millisecond precision (see each service's
 * migrations), which is exactly what a cursor carries.
 */
export const encodeCursor = (at: Date, id: string): string =>
  Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');

export function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // Exactly what encodeCursor writes, so nothing odd reaches a SQL cast.
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string' &&
      ISO_MS.test(v[0]) &&
      new Date(v[0]).toISOString() === v[0] &&
      UUID.test(v[1])
    )
      return { at: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw new AppError('VALIDATION_FAILED', 'cursor is not one this API returned', {
    errors: [{ field: 'query.cursor', message: 'not a valid cursor' }],
  });
}

/**
 * Turns `limit + 1` rows fetched in keyset order into a page: the extra row
 * only says there is a next page, whose cursor is the last row's key.
 */
export function pageOf<R, T>(
  rows: R[],
  limit: number,
  keyOf: (row: R) => [Date, string],
  map: (row: R) => T,
): { data: T[]; next_cursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data: data.map(map), next_cursor: rows.length > limit && last ? encodeCursor(...keyOf(last)) : null };
}
