import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { fitting, jsonBytes } from './bounds.ts';

describe('byte bounds', () => {
  test('jsonBytes counts UTF-8 bytes of the JSON text', () => {
    assert.equal(jsonBytes({ a: 'é' }), Buffer.byteLength('{"a":"é"}'));
    assert.equal(jsonBytes(undefined), 0);
  });

  test('fitting counts the leading items that fit as array elements, commas included', () => {
    const items = ['aa', 'bb', 'cc']; // 4 bytes each as JSON
    assert.equal(fitting(items, 3), 0);
    assert.equal(fitting(items, 4), 1);
    assert.equal(fitting(items, 8), 1, 'the comma counts');
    assert.equal(fitting(items, 9), 2);
    assert.equal(fitting(items, 14), 3);
    assert.equal(fitting([], 0), 0);
    assert.equal(JSON.stringify(items.slice(0, fitting(items, 9))).length - 2, 9);
  });
});
