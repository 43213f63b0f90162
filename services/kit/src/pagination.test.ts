import assert from 'node:assert/strict';
import { test } from 'vitest';
import { isAppError } from './errors.ts';
import { decodeCursor, encodeCursor, pageOf } from './pagination.ts';

const id = '0b6f3c6e-8f0a-4c3e-9d1e-2a7b5c9d1e2f';

test('a cursor round-trips', () => {
  const at = new Date('2026-11-23T07:00:00.123Z');
  assert.deepEqual(decodeCursor(encodeCursor(at, id)), { at: at.toISOString(), id });
});

test('anything but a cursor this API wrote is a validation error naming query.cursor (never reaches SQL)', () => {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  for (const bad of ['garbage', enc(['1', '-'.repeat(36)]), enc(['2020-02-30T00:00:00.000Z', id]), enc(['2026-11-23T07:00:00Z', id]), enc(['0000-01-01T00:00:00.000Z', id]), enc([1, id]), enc({})]) {
    assert.throws(() => decodeCursor(bad), (err) => isAppError(err) && err.code === 'VALIDATION_FAILED' && err.errors?.[0]?.field === 'query.cursor');
  }
});

test('a page of limit + 1 rows has a next cursor at its last row; a short page has none', () => {
  const rows = [1, 2, 3].map((n) => ({ n, at: new Date(Date.UTC(2026, 0, n)), id }));
  const full = pageOf(rows, 2, (r) => [r.at, r.id], (r) => r.n);
  assert.deepEqual(full.data, [1, 2]);
  assert.deepEqual(decodeCursor(full.next_cursor!), { at: rows[1]!.at.toISOString(), id });
  assert.equal(pageOf(rows, 3, (r) => [r.at, r.id], (r) => r.n).next_cursor, null);
});
