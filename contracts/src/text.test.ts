/**
 * Every string of the contracts refuses NUL and unpaired surrogates: the rule
 * itself, and a scan of every schema the contracts export (messages, routes,
 * events, jobs, API bodies, queries, headers, path params) for a string that
 * was written without it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { z } from 'zod';
import * as contracts from './index.ts';
import { text, wellFormed } from './text.ts';

type Def = { type: string; format?: string; checks?: unknown[] } & Record<string, unknown>;
const defOf = (s: unknown) => (s as { _zod: { def: Def } })._zod.def;
const isSchema = (v: unknown): v is z.ZodType => v instanceof z.ZodType;

/** Paths of the strings under `schema` that lack the rule (format strings such as uuid and datetime are closed already). */
function unguarded(schema: z.ZodType, path: string, out: { strings: number; missing: string[] }, seen = new Set<unknown>()): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = defOf(schema);
  const walk = (s: unknown, p: string): void => {
    if (isSchema(s)) unguarded(s, p, out, seen);
  };
  switch (def.type) {
    case 'string':
      out.strings++;
      if (!def.format && !def.checks?.includes(wellFormed)) out.missing.push(path);
      return;
    case 'object':
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) walk(v, `${path}.${k}`);
      return walk(def.catchall, `${path}.*`);
    case 'array':
      return walk(def.element, `${path}[]`);
    case 'record':
      walk(def.keyType, `${path}{key}`);
      return walk(def.valueType, `${path}{value}`);
    case 'union':
      return (def.options as unknown[]).forEach((o, i) => walk(o, `${path}|${i}`));
    case 'intersection':
      walk(def.left, path);
      return walk(def.right, path);
    case 'tuple':
      (def.items as unknown[]).forEach((o, i) => walk(o, `${path}[${i}]`));
      return walk(def.rest, `${path}[…]`);
    case 'pipe':
      walk(def.in, path);
      return walk(def.out, path);
    case 'lazy':
      return walk((def.getter as () => unknown)(), path);
    default:
      // optional, nullable, default, readonly, catch, …: one inner schema.
      return walk(def.innerType, path);
  }
}

/** Every schema reachable from the contracts' exports: schemas, route catalogs, the event and job catalogs, and the generic builders. */
function exportedSchemas(): [string, z.ZodType][] {
  const found: [string, z.ZodType][] = [];
  for (const [name, value] of Object.entries(contracts)) {
    if (isSchema(value)) found.push([name, value]);
    else if (value && typeof value === 'object')
      for (const [key, inner] of Object.entries(value)) {
        if (isSchema(inner)) found.push([`${name}.${key}`, inner]);
        else if (inner && typeof inner === 'object')
          for (const [part, s] of Object.entries(inner)) if (isSchema(s)) found.push([`${name}.${key}.${part}`, s]);
      }
  }
  found.push(
    ['pageOf(…)', contracts.pageOf(z.unknown())],
    ['cloudEvent(…)', contracts.cloudEvent('t', z.unknown())],
    ['replyEnvelope(…)', contracts.replyEnvelope(z.unknown())],
  );
  return found;
}

describe('strings of the contracts', () => {
  test('text() refuses NUL and unpaired surrogates, and keeps every other character', () => {
    for (const bad of ['\0', 'a\0b', '\ud800', 'x\udfff', '\udc00\ud800', 'ok\ud83d'])
      assert.equal(text().safeParse(bad).success, false, JSON.stringify(bad));
    for (const good of ['', 'plain', 'é', '😀', '\u200b\u202e\ufeff', '\u0001\u001f\u007f', 'ﷺ', '\ud83d\ude00'])
      assert.equal(text().safeParse(good).success, true, JSON.stringify(good));
    const issue = text().trim().min(1).safeParse('a\0').error?.issues[0];
    assert.match(issue?.message ?? '', /NUL/);
  });

  test('a nested string with NUL names its own path', () => {
    const r = contracts.CreateIntegrationBody.safeParse({
      integration_type: 'POSTGRESQL',
      credential: { host: 'db', username: 'u', password: 'p', database_name: 'd' },
      config: { schemas: ['public', 'x\0'] },
    });
    assert.deepEqual(r.error?.issues.map((i) => i.path), [['config', 'schemas', 1]]);
  });

  test('the scan finds a string written without the rule (it is not vacuous)', () => {
    const out = { strings: 0, missing: [] as string[] };
    unguarded(z.object({ ok: text(), id: z.uuid(), bad: z.array(z.object({ deep: z.string().min(1) })) }), 'probe', out);
    assert.deepEqual(out.missing, ['probe.bad[].deep']);
  });

  test('every string schema the contracts export carries the rule', () => {
    const out = { strings: 0, missing: [] as string[] };
    const schemas = exportedSchemas();
    for (const [name, schema] of schemas) unguarded(schema, name, out);
    assert.ok(schemas.length > 100 && out.strings > 100, `scanned ${schemas.length} schemas, ${out.strings} strings`);
    assert.deepEqual(out.missing, []);
  });
});
