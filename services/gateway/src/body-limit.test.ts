import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { bodyLimit } from './http.ts';

describe('the request body limit', () => {
  test('stays below what one NATS message can carry, whatever BODY_LIMIT_BYTES says', () => {
    assert.equal(bodyLimit(10 * 1024 * 1024, 1024 * 1024), 1024 * 1024 - 64 * 1024);
    assert.equal(bodyLimit(100_000, 1024 * 1024), 100_000, 'a lower configured limit stands');
    assert.equal(bodyLimit(100_000, undefined), 100_000, 'before NATS has said its max_payload');
  });
});
