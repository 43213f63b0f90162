import { z } from 'zod';

/** The structure of a PostgreSQL database as discovered through pg_catalog. Identifiers are kept exactly. */
export const CatalogColumn = z.object({
  name: z.string(),
  position: z.number().int(),
  type: z.string().describe('format_type(), e.g. "character varying(20)", "integer[]", "public.mood"'),
  nullable: z.boolean(),
  default: z.string().nullable(),
  identity: z.enum(['always', 'by_default']).nullable(),
  // 'virtual' is PostgreSQL 18's generated column computed on read (attgenerated 'v').
  generated: z.enum(['stored', 'virtual']).nullable().describe('Generation expression kind; the expression is in `default`'),
  comment: z.string().nullable(),
});
export type CatalogColumn = z.infer<typeof CatalogColumn>;

export const CatalogKey = z.object({ name: z.string(), columns: z.array(z.string()) });
export type CatalogKey = z.infer<typeof CatalogKey>;

export const CatalogForeignKey = z.object({
  name: z.string(),
  columns: z.array(z.string()),
  references: z.object({ schema: z.string(), table: z.string(), columns: z.array(z.string()) }),
  on_update: z.string(),
  on_delete: z.string(),
});
export type CatalogForeignKey = z.infer<typeof CatalogForeignKey>;

export const CatalogIndex = z.object({
  name: z.string(),
  unique: z.boolean(),
  primary: z.boolean(),
  method: z.string(),
  columns: z.array(z.string()).describe('Column names; expressions as written'),
  predicate: z.string().nullable(),
  definition: z.string(),
});
export type CatalogIndex = z.infer<typeof CatalogIndex>;

export const RelationKind = z.enum(['table', 'view', 'materialized_view', 'partitioned_table', 'foreign_table']);
export type RelationKind = z.infer<typeof RelationKind>;

export const CatalogRelation = z.object({
  schema: z.string(),
  name: z.string(),
  kind: RelationKind,
  /** For a partition: its parent and bound. */
  partition_of: z.object({ schema: z.string(), name: z.string(), bound: z.string() }).nullable(),
  /** For a partitioned table: its partition key. */
  partition_key: z.string().nullable(),
  estimated_rows: z.number().nullable().describe('pg_class.reltuples; null when never analysed'),
  comment: z.string().nullable(),
  columns: z.array(CatalogColumn),
  primary_key: CatalogKey.nullable(),
  unique_constraints: z.array(CatalogKey),
  foreign_keys: z.array(CatalogForeignKey),
  indexes: z.array(CatalogIndex),
  check_constraints: z.array(z.object({ name: z.string(), expression: z.string() })),
  view_definition: z.string().nullable(),
});
export type CatalogRelation = z.infer<typeof CatalogRelation>;

export const CatalogEnum = z.object({ schema: z.string(), name: z.string(), values: z.array(z.string()) });
export type CatalogEnum = z.infer<typeof CatalogEnum>;

export const Relationship = z.object({
  name: z.string(),
  from: z.object({ schema: z.string(), table: z.string(), columns: z.array(z.string()) }),
  to: z.object({ schema: z.string(), table: z.string(), columns: z.array(z.string()) }),
});
export type Relationship = z.infer<typeof Relationship>;

export const Catalog = z.object({
  server_version: z.string(),
  database: z.string(),
  discovered_at: z.iso.datetime(),
  schemas: z.array(z.object({ name: z.string(), comment: z.string().nullable() })),
  relations: z.array(CatalogRelation),
  enums: z.array(CatalogEnum),
  relationships: z.array(Relationship),
});
export type Catalog = z.infer<typeof Catalog>;

export const ChangeKind = z.enum(['added', 'removed', 'altered']);
export const SchemaChange = z.object({
  kind: ChangeKind,
  object: z.enum(['schema', 'relation', 'column', 'primary_key', 'unique_constraint', 'foreign_key', 'index', 'check_constraint', 'enum']),
  schema: z.string(),
  relation: z.string().nullable(),
  name: z.string(),
  /** For altered objects: what it was and what it is (e.g. a column's type). */
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});
export type SchemaChange = z.infer<typeof SchemaChange>;
