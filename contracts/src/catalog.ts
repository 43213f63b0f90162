import { z } from 'zod';
import { text } from './text.ts';

/** The structure of a PostgreSQL database as discovered through pg_catalog. Identifiers are kept exactly. */
export const CatalogColumn = z.object({
  name: text(),
  position: z.number().int(),
  type: text().describe('format_type(), e.g. "character varying(20)", "integer[]", "public.mood"'),
  nullable: z.boolean(),
  default: text().nullable(),
  identity: z.enum(['always', 'by_default']).nullable(),
  // 'virtual' is PostgreSQL 18's generated column computed on read (attgenerated 'v').
  generated: z.enum(['stored', 'virtual']).nullable().describe('Generation expression kind; the expression is in `default`'),
  comment: text().nullable(),
});
export type CatalogColumn = z.infer<typeof CatalogColumn>;

export const CatalogKey = z.object({ name: text(), columns: z.array(text()) });
export type CatalogKey = z.infer<typeof CatalogKey>;

export const CatalogForeignKey = z.object({
  name: text(),
  columns: z.array(text()),
  references: z.object({ schema: text(), table: text(), columns: z.array(text()) }),
  on_update: text(),
  on_delete: text(),
});
export type CatalogForeignKey = z.infer<typeof CatalogForeignKey>;

export const CatalogIndex = z.object({
  name: text(),
  unique: z.boolean(),
  primary: z.boolean(),
  method: text(),
  columns: z.array(text()).describe('Column names; expressions as written'),
  predicate: text().nullable(),
  definition: text(),
});
export type CatalogIndex = z.infer<typeof CatalogIndex>;

export const RelationKind = z.enum(['table', 'view', 'materialized_view', 'partitioned_table', 'foreign_table']);
export type RelationKind = z.infer<typeof RelationKind>;

export const CatalogRelation = z.object({
  schema: text(),
  name: text(),
  kind: RelationKind,
  /** For a partition: its parent and bound. */
  partition_of: z.object({ schema: text(), name: text(), bound: text() }).nullable(),
  /** For a partitioned table: its partition key. */
  partition_key: text().nullable(),
  estimated_rows: z.number().nullable().describe('pg_class.reltuples; null when never analysed'),
  comment: text().nullable(),
  columns: z.array(CatalogColumn),
  primary_key: CatalogKey.nullable(),
  unique_constraints: z.array(CatalogKey),
  foreign_keys: z.array(CatalogForeignKey),
  indexes: z.array(CatalogIndex),
  check_constraints: z.array(z.object({ name: text(), expression: text() })),
  view_definition: text().nullable(),
});
export type CatalogRelation = z.infer<typeof CatalogRelation>;

export const CatalogEnum = z.object({ schema: text(), name: text(), values: z.array(text()) });
export type CatalogEnum = z.infer<typeof CatalogEnum>;

export const Relationship = z.object({
  name: text(),
  from: z.object({ schema: text(), table: text(), columns: z.array(text()) }),
  to: z.object({ schema: text(), table: text(), columns: z.array(text()) }),
});
export type Relationship = z.infer<typeof Relationship>;

export const Catalog = z.object({
  server_version: text(),
  database: text(),
  discovered_at: z.iso.datetime(),
  schemas: z.array(z.object({ name: text(), comment: text().nullable() })),
  relations: z.array(CatalogRelation),
  enums: z.array(CatalogEnum),
  relationships: z.array(Relationship),
});
export type Catalog = z.infer<typeof Catalog>;

export const ChangeKind = z.enum(['added', 'removed', 'altered']);
export const SchemaChange = z.object({
  kind: ChangeKind,
  object: z.enum(['schema', 'relation', 'column', 'primary_key', 'unique_constraint', 'foreign_key', 'index', 'check_constraint', 'enum']),
  schema: text(),
  relation: text().nullable(),
  name: text(),
  /** For altered objects: what it was and what it is (e.g. a column's type). */
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});
export type SchemaChange = z.infer<typeof SchemaChange>;
