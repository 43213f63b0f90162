import type { Catalog, CatalogRelation, SchemaChange } from '@switchyard/contracts';
import { byText } from './assemble.ts';

type ObjectKind = SchemaChange['object'];

/** The fields whose change makes an object "altered"; other differences (comments, row estimates) are not drift. */
const COMPARED = {
  relation: ['kind', 'partition_of', 'partition_key', 'view_definition'],
  column: ['type', 'nullable', 'default', 'identity', 'generated'],
  primary_key: ['name', 'columns'],
  unique_constraint: ['columns'],
  foreign_key: ['columns', 'references', 'on_update', 'on_delete'],
  index: ['unique', 'primary', 'method', 'columns', 'predicate', 'definition'],
  check_constraint: ['expression'],
  enum: ['values'],
} as const satisfies Partial<Record<ObjectKind, readonly string[]>>;

// Objects are plain JSON built by discover() in a fixed key order, so their JSON text compares them.
const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

function changedFields(a: object, b: object, fields: readonly string[]) {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const f of fields) {
    const x = (a as Record<string, unknown>)[f];
    const y = (b as Record<string, unknown>)[f];
    if (!same(x, y)) {
      before[f] = x;
      after[f] = y;
    }
  }
  return Object.keys(before).length ? { before, after } : null;
}

/**
 * Compares two lists of named things; emits removed/added/altered in key
 * order. `payload` is what an added or removed object carries.
 */
function compare<T extends object>(
  out: SchemaChange[],
  object: ObjectKind,
  where: { schema: (t: T) => string; relation: string | null },
  before: readonly T[],
  after: readonly T[],
  key: (t: T) => string,
  name: (t: T) => string,
  fields: readonly string[],
  payload: (t: T) => unknown = (t) => t,
): void {
  const a = new Map(before.map((t) => [key(t), t]));
  const b = new Map(after.map((t) => [key(t), t]));
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort(byText);
  for (const k of keys) {
    const x = a.get(k);
    const y = b.get(k);
    const base = (t: T) => ({ object, schema: where.schema(t), relation: where.relation, name: name(t) });
    if (x && !y) {
      const p = payload(x);
      out.push({ kind: 'removed', ...base(x), ...(p === undefined ? {} : { before: p }) });
    } else if (!x && y) {
      const p = payload(y);
      out.push({ kind: 'added', ...base(y), ...(p === undefined ? {} : { after: p }) });
    } else if (x && y) {
      const d = changedFields(x, y, fields);
      if (d) out.push({ kind: 'altered', ...base(y), ...d });
    }
  }
}

/**
 * What changed between two discoveries of the same database, in a fixed
 * order: schemas, enums, then relation by relation (the relation itself, its
 * columns, primary key, unique constraints, foreign keys, indexes, checks),
 * each by name. `relation` is null for schemas and enums, else the relation's
 * name (also for the relation itself). The first discovery has nothing to
 * compare with, so it yields no changes.
 */
export function diffCatalogs(before: Catalog | null, after: Catalog): SchemaChange[] {
  if (!before) return [];
  const out: SchemaChange[] = [];
  const nameOf = (t: { name: string }) => t.name;
  const qualified = (t: { schema: string; name: string }) => `${t.schema}\u0000${t.name}`;

  compare(out, 'schema', { schema: nameOf, relation: null }, before.schemas, after.schemas, nameOf, nameOf, [], () => undefined);
  compare(out, 'enum', { schema: (e) => e.schema, relation: null }, before.enums, after.enums, qualified, nameOf, COMPARED.enum);

  const relsBefore = new Map(before.relations.map((r) => [qualified(r), r]));
  const relsAfter = new Map(after.relations.map((r) => [qualified(r), r]));
  const keys = [...new Set([...relsBefore.keys(), ...relsAfter.keys()])].sort(byText);
  for (const k of keys) {
    const x = relsBefore.get(k);
    const y = relsAfter.get(k);
    const rel = (y ?? x)!;
    const where = { schema: () => rel.schema, relation: rel.name };
    if (!x || !y) {
      compare(out, 'relation', where, x ? [x] : [], y ? [y] : [], nameOf, nameOf, [], (r) => ({ kind: r.kind }));
      continue;
    }
    compare(out, 'relation', where, [x], [y], nameOf, nameOf, COMPARED.relation);
    diffRelation(out, where, x, y);
  }
  return out;
}

function diffRelation(
  out: SchemaChange[],
  where: { schema: () => string; relation: string },
  x: CatalogRelation,
  y: CatalogRelation,
): void {
  const nameOf = (t: { name: string }) => t.name;
  compare(out, 'column', where, x.columns, y.columns, nameOf, nameOf, COMPARED.column);
  // A relation has at most one primary key: compared as one object whatever its name.
  const pk = (r: CatalogRelation) => (r.primary_key ? [r.primary_key] : []);
  compare(out, 'primary_key', where, pk(x), pk(y), () => 'primary key', nameOf, COMPARED.primary_key);
  compare(out, 'unique_constraint', where, x.unique_constraints, y.unique_constraints, nameOf, nameOf, COMPARED.unique_constraint);
  compare(out, 'foreign_key', where, x.foreign_keys, y.foreign_keys, nameOf, nameOf, COMPARED.foreign_key);
  compare(out, 'index', where, x.indexes, y.indexes, nameOf, nameOf, COMPARED.index);
  compare(out, 'check_constraint', where, x.check_constraints, y.check_constraints, nameOf, nameOf, COMPARED.check_constraint);
}
