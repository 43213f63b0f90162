/**
 * Turns the rows of one batch of catalog queries into CatalogRelations: the
 * part of discovery that is plain data shaping, with no connection.
 */
import type { CatalogColumn, CatalogRelation, Relationship, RelationKind } from '@switchyard/contracts';

const KIND: Record<string, RelationKind> = {
  r: 'table',
  v: 'view',
  m: 'materialized_view',
  p: 'partitioned_table',
  f: 'foreign_table',
};
const FK_ACTION: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };
const IDENTITY: Record<string, CatalogColumn['identity']> = { a: 'always', d: 'by_default' };
const GENERATED: Record<string, CatalogColumn['generated']> = { s: 'stored', v: 'virtual' };

type ColumnTuple = [string, number, string, boolean, string | null, string, string, string | null];

export interface RelationRow {
  oid: string;
  schema: string;
  name: string;
  kind: string;
  parent_schema: string | null;
  parent_name: string | null;
  partition_bound: string | null;
  partition_key: string | null;
  reltuples: number;
  relpages: number;
  comment: string | null;
  view_definition: string | null;
  columns: ColumnTuple[] | null;
}

export interface ConstraintRow {
  oid: string;
  name: string;
  type: 'p' | 'u' | 'f' | 'c';
  keys: number[] | null;
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[] | null;
  on_update: string;
  on_delete: string;
  definition: string | null;
}

export interface IndexRow {
  oid: string;
  name: string;
  is_unique: boolean;
  is_primary: boolean;
  method: string;
  definition: string | null;
  predicate: string | null;
  keys: number[];
  expressions: string[] | null;
}

/** Plain code-unit order: the same on every machine, unlike localeCompare. */
export const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
export const byName = <T extends { name: string }>(a: T, b: T) => byText(a.name, b.name);

export interface BatchRows {
  relations: RelationRow[];
  constraints: ConstraintRow[];
  indexes: IndexRow[];
}

/** The three queries for a batch, sent together (the connection pipelines). */
export function assemble(rows: BatchRows, versionNum: number): CatalogRelation[] {
  const byOid = new Map<string, CatalogRelation>();
  for (const r of rows.relations) byOid.set(r.oid, toRelation(r, versionNum));
  // Key columns come as attribute numbers: name them from the relation's own columns.
  const nameOf = (rel: CatalogRelation, keys: number[] | null) => (keys ?? []).map((n) => rel.columns.find((c) => c.position === n)?.name ?? String(n));
  for (const c of rows.constraints) {
    const rel = byOid.get(c.oid);
    if (rel) addConstraint(rel, c, nameOf(rel, c.keys));
  }
  for (const i of rows.indexes) {
    const rel = byOid.get(i.oid);
    // A definition is null only when the index was dropped after our snapshot was taken.
    if (rel && i.definition !== null) {
      rel.indexes.push({
        name: i.name,
        unique: i.is_unique,
        primary: i.is_primary,
        method: i.method,
        columns: i.expressions ?? nameOf(rel, i.keys),
        predicate: i.predicate,
        definition: i.definition,
      });
    }
  }
  for (const rel of byOid.values()) {
    rel.unique_constraints.sort(byName);
    rel.foreign_keys.sort(byName);
    rel.indexes.sort(byName);
    rel.check_constraints.sort(byName);
  }
  return [...byOid.values()];
}

function toRelation(r: RelationRow, versionNum: number): CatalogRelation {
  // From PostgreSQL 14 reltuples is -1 until the first ANALYZE; before, 0 rows in 0 pages meant the same.
  const neverAnalysed = r.reltuples < 0 || (versionNum < 140000 && r.reltuples === 0 && r.relpages === 0);
  return {
    schema: r.schema,
    name: r.name,
    kind: KIND[r.kind] ?? 'table',
    partition_of:
      r.parent_schema !== null && r.parent_name !== null
        ? { schema: r.parent_schema, name: r.parent_name, bound: r.partition_bound ?? '' }
        : null,
    partition_key: r.partition_key,
    estimated_rows: r.kind === 'v' || neverAnalysed ? null : r.reltuples,
    comment: r.comment,
    columns: (r.columns ?? []).map(([name, position, type, notNull, dflt, identity, generated, comment]) => ({
      name,
      position,
      type,
      nullable: !notNull,
      default: dflt,
      identity: IDENTITY[identity] ?? null,
      generated: GENERATED[generated] ?? null,
      comment,
    })),
    primary_key: null,
    unique_constraints: [],
    foreign_keys: [],
    indexes: [],
    check_constraints: [],
    view_definition: r.view_definition,
  };
}

function addConstraint(rel: CatalogRelation, c: ConstraintRow, columns: string[]): void {
  switch (c.type) {
    case 'p':
      rel.primary_key = { name: c.name, columns };
      break;
    case 'u':
      rel.unique_constraints.push({ name: c.name, columns });
      break;
    case 'f':
      rel.foreign_keys.push({
        name: c.name,
        columns,
        references: { schema: c.ref_schema ?? '', table: c.ref_table ?? '', columns: c.ref_columns ?? [] },
        on_update: FK_ACTION[c.on_update] ?? c.on_update,
        on_delete: FK_ACTION[c.on_delete] ?? c.on_delete,
      });
      break;
    case 'c':
      if (c.definition !== null) rel.check_constraints.push({ name: c.name, expression: c.definition });
      break;
  }
}

export function relationshipsOf(relations: CatalogRelation[]): Relationship[] {
  return relations.flatMap((rel) =>
    rel.foreign_keys.map((fk) => ({
      name: fk.name,
      from: { schema: rel.schema, table: rel.name, columns: fk.columns },
      to: { schema: fk.references.schema, table: fk.references.table, columns: fk.references.columns },
    })),
  );
}
