import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { CatalogRelation } from '@switchyard/contracts';
import { diffCatalogs } from './diff.ts';
import { discover } from './discover.ts';
import { catalogColumn as column, catalogOf as catalog, catalogRelation as relation, createDatabase, type TestDatabase } from './testing.ts';

describe('diffCatalogs on a real database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createDatabase('connectors_diff');
    await db.sql(`
      CREATE TYPE mood AS ENUM ('sad', 'happy');
      CREATE TABLE authors (id integer PRIMARY KEY, name text NOT NULL);
      CREATE TABLE books (id integer PRIMARY KEY, title varchar(100) NOT NULL, author_id integer);
      CREATE TABLE scratch (id integer);
    `);
  });
  afterAll(async () => {
    await db.drop();
  });

  test('reports exactly what the ALTERs changed', async () => {
    const first = await discover(db.cred);
    assert.deepEqual(diffCatalogs(null, first), [], 'a first discovery has nothing to compare with');
    assert.deepEqual(diffCatalogs(first, first), []);

    await db.sql(`
      ALTER TABLE books ADD COLUMN isbn text;
      ALTER TABLE books ALTER COLUMN title TYPE text;
      DROP TABLE scratch;
      ALTER TABLE books ADD CONSTRAINT books_author_id_fkey FOREIGN KEY (author_id) REFERENCES authors (id);
      ALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy';
    `);
    const second = await discover(db.cred);

    assert.deepEqual(diffCatalogs(first, second), [
      {
        kind: 'altered',
        object: 'enum',
        schema: 'public',
        relation: null,
        name: 'mood',
        before: { values: ['sad', 'happy'] },
        after: { values: ['sad', 'ok', 'happy'] },
      },
      {
        kind: 'added',
        object: 'column',
        schema: 'public',
        relation: 'books',
        name: 'isbn',
        after: { name: 'isbn', position: 4, type: 'text', nullable: true, default: null, identity: null, generated: null, comment: null },
      },
      {
        kind: 'altered',
        object: 'column',
        schema: 'public',
        relation: 'books',
        name: 'title',
        before: { type: 'character varying(100)' },
        after: { type: 'text' },
      },
      {
        kind: 'added',
        object: 'foreign_key',
        schema: 'public',
        relation: 'books',
        name: 'books_author_id_fkey',
        after: {
          name: 'books_author_id_fkey',
          columns: ['author_id'],
          references: { schema: 'public', table: 'authors', columns: ['id'] },
          on_update: 'NO ACTION',
          on_delete: 'NO ACTION',
        },
      },
      { kind: 'removed', object: 'relation', schema: 'public', relation: 'scratch', name: 'scratch', before: { kind: 'table' } },
    ]);
  });
});

// ---- pure cases on hand-made catalogs ---------------------------------------

const index = (name: string, over: Partial<CatalogRelation['indexes'][number]> = {}) => ({
  name,
  unique: false,
  primary: false,
  method: 'btree',
  columns: ['id'],
  predicate: null,
  definition: `CREATE INDEX ${name} ON public.t USING btree (id)`,
  ...over,
});

describe('diffCatalogs', () => {
  test('a first discovery yields no changes', () => {
    assert.deepEqual(diffCatalogs(null, catalog({ relations: [relation('public', 't')] })), []);
  });

  test('ignores what is not structure: comments, row estimates, discovery time', () => {
    const a = catalog({ relations: [relation('public', 't', { estimated_rows: 1, comment: 'a' })] });
    const b = catalog({ discovered_at: '2025-02-01T00:00:00.000Z', relations: [relation('public', 't', { estimated_rows: 9, comment: 'b' })] });
    assert.deepEqual(diffCatalogs(a, b), []);
  });

  test('schemas and enums added and removed', () => {
    const a = catalog({ schemas: [{ name: 'old', comment: null }], enums: [{ schema: 'old', name: 'e', values: ['x'] }] });
    const b = catalog({ schemas: [{ name: 'new', comment: null }], enums: [{ schema: 'new', name: 'e', values: ['x'] }] });
    assert.deepEqual(
      diffCatalogs(a, b).map((c) => [c.kind, c.object, c.schema, c.name]),
      [
        ['added', 'schema', 'new', 'new'],
        ['removed', 'schema', 'old', 'old'],
        ['added', 'enum', 'new', 'e'],
        ['removed', 'enum', 'old', 'e'],
      ],
    );
  });

  test('column alterations carry only the changed fields', () => {
    const a = catalog({ relations: [relation('public', 't', { columns: [column('id', 1), column('n', 2)] })] });
    const b = catalog({
      relations: [
        relation('public', 't', {
          columns: [column('id', 1, { identity: 'always', nullable: false }), column('n', 2, { default: '0', generated: null })],
        }),
      ],
    });
    assert.deepEqual(
      diffCatalogs(a, b).map((c) => [c.name, c.before, c.after]),
      [
        ['id', { nullable: true, identity: null }, { nullable: false, identity: 'always' }],
        ['n', { default: null }, { default: '0' }],
      ],
    );
  });

  test('keys, unique constraints, indexes and checks: added, removed, altered', () => {
    const a = catalog({
      relations: [
        relation('public', 't', {
          unique_constraints: [{ name: 'u1', columns: ['a'] }, { name: 'gone', columns: ['b'] }],
          indexes: [index('i1'), index('i_gone')],
          check_constraints: [{ name: 'c1', expression: 'CHECK ((a > 0))' }],
        }),
      ],
    });
    const b = catalog({
      relations: [
        relation('public', 't', {
          primary_key: { name: 't_pkey', columns: ['id', 'a'] },
          unique_constraints: [{ name: 'u1', columns: ['a', 'b'] }],
          indexes: [index('i1', { predicate: '(a > 1)', definition: 'CREATE INDEX i1 ON public.t USING btree (id) WHERE (a > 1)' }), index('i_new')],
          check_constraints: [{ name: 'c1', expression: 'CHECK ((a > 1))' }, { name: 'c2', expression: 'CHECK ((b > 0))' }],
        }),
      ],
    });
    assert.deepEqual(
      diffCatalogs(a, b).map((c) => [c.kind, c.object, c.name, c.before, c.after]),
      [
        ['altered', 'primary_key', 't_pkey', { columns: ['id'] }, { columns: ['id', 'a'] }],
        ['removed', 'unique_constraint', 'gone', { name: 'gone', columns: ['b'] }, undefined],
        ['altered', 'unique_constraint', 'u1', { columns: ['a'] }, { columns: ['a', 'b'] }],
        [
          'altered',
          'index',
          'i1',
          { predicate: null, definition: 'CREATE INDEX i1 ON public.t USING btree (id)' },
          { predicate: '(a > 1)', definition: 'CREATE INDEX i1 ON public.t USING btree (id) WHERE (a > 1)' },
        ],
        ['removed', 'index', 'i_gone', index('i_gone'), undefined],
        ['added', 'index', 'i_new', undefined, index('i_new')],
        ['altered', 'check_constraint', 'c1', { expression: 'CHECK ((a > 0))' }, { expression: 'CHECK ((a > 1))' }],
        ['added', 'check_constraint', 'c2', undefined, { name: 'c2', expression: 'CHECK ((b > 0))' }],
      ],
    );
  });

  test('a primary key added and removed', () => {
    const withPk = catalog({ relations: [relation('public', 't')] });
    const without = catalog({ relations: [relation('public', 't', { primary_key: null })] });
    assert.deepEqual(
      diffCatalogs(without, withPk).map((c) => [c.kind, c.object, c.name]),
      [['added', 'primary_key', 't_pkey']],
    );
    assert.deepEqual(
      diffCatalogs(withPk, without).map((c) => [c.kind, c.object, c.name]),
      [['removed', 'primary_key', 't_pkey']],
    );
  });

  test('a relation that changed kind or definition is altered', () => {
    const a = catalog({ relations: [relation('public', 'v', { kind: 'view', view_definition: ' SELECT 1;' })] });
    const b = catalog({ relations: [relation('public', 'v', { kind: 'view', view_definition: ' SELECT 2;' })] });
    assert.deepEqual(diffCatalogs(a, b), [
      { kind: 'altered', object: 'relation', schema: 'public', relation: 'v', name: 'v', before: { view_definition: ' SELECT 1;' }, after: { view_definition: ' SELECT 2;' } },
    ]);
  });

  test('the order does not depend on the order of the input', () => {
    const rels = ['b', 'a', 'c'].map((n) => relation('public', n, { columns: [column('y', 1), column('x', 2)] }));
    const a = catalog({ relations: [] });
    const b1 = catalog({ relations: rels });
    const b2 = catalog({ relations: [...rels].reverse().map((r) => ({ ...r, columns: [...r.columns].reverse() })) });
    const d1 = diffCatalogs(a, b1);
    assert.deepEqual(d1, diffCatalogs(a, b2));
    assert.deepEqual(
      d1.map((c) => c.name),
      ['a', 'b', 'c'],
    );
  });
});
