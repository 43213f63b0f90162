/**
 * The catalog queries discovery runs. All of them read pg_catalog directly:
 * information_schema's views check privileges row by row and are many times
 * slower on a large catalog. Each per-batch query takes the batch's relation
 * oids as $1 and is one set-based statement, whatever the batch size; per-object
 * lists (columns, key columns) are aggregated to JSON in the server so a batch
 * is a few hundred rows, not tens of thousands.
 *
 * They run with search_path = '' (as pg_dump does), so format_type,
 * pg_get_expr and pg_get_*def qualify every name outside pg_catalog: the text
 * does not depend on the customer's search_path, and two discoveries compare.
 */

/** Schemas worth describing: not the system's, not temporary ones; only the asked-for ones when $1 is not null. */
export const SCHEMAS = `
SELECT n.oid::int8 AS oid, n.nspname AS name, d.description AS comment
  FROM pg_namespace n
  LEFT JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
 WHERE n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema', 'pg_toast'])
   AND n.nspname NOT LIKE 'pg\\_temp\\_%'
   AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
   AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))`;

/** Every relation to describe, by oid: the unit of batching and progress. */
export const RELATION_OIDS = `
SELECT c.oid::int8 AS oid
  FROM pg_class c
 WHERE c.relnamespace = ANY ($1::oid[]) AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
 ORDER BY c.oid`;

export const ENUMS = `
SELECT n.nspname AS schema, t.typname AS name,
       COALESCE(json_agg(e.enumlabel ORDER BY e.enumsortorder) FILTER (WHERE e.oid IS NOT NULL), '[]') AS labels
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  LEFT JOIN pg_enum e ON e.enumtypid = t.oid
 WHERE t.typtype = 'e' AND t.typnamespace = ANY ($1::oid[])
 GROUP BY n.nspname, t.typname`;

/**
 * One row per relation with its columns as a JSON array of
 * [name, position, type, not_null, default, identity, generated, comment].
 * attgenerated exists from PostgreSQL 12. pg_get_partkeydef, pg_get_viewdef and
 * the bound's pg_get_expr only run for the relations they concern.
 */
export const relations = (serverVersionNum: number) => {
  const generated = serverVersionNum >= 120000 ? 'a.attgenerated' : `''`;
  // A default (like a partition bound) cannot refer to a column, so it needs no
  // relation to be read back: given 0, pg_get_expr does not open the table
  // (documented: "if no Vars are expected, passing zero is sufficient"). A
  // generation expression does refer to columns.
  const defaultExpr = `pg_get_expr(ad.adbin, CASE WHEN ${generated} = '' THEN 0 ELSE ad.adrelid END)`;
  return `
SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       pn.nspname AS parent_schema, pc.relname AS parent_name,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, 0) END AS partition_bound,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       c.reltuples, c.relpages,
       d.description AS comment,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS view_definition,
       (SELECT json_agg(json_build_array(a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                                         ${defaultExpr}, a.attidentity, ${generated}, cd.description)
                        ORDER BY a.attnum)
          FROM pg_attribute a
          LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
          LEFT JOIN pg_description cd ON cd.objoid = a.attrelid AND cd.classoid = 'pg_class'::regclass AND cd.objsubid = a.attnum
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
  LEFT JOIN pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
  LEFT JOIN pg_class pc ON pc.oid = i.inhparent
  LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
 WHERE c.oid = ANY ($1::oid[])`;
};

/**
 * Primary keys, unique, foreign key and check constraints, key columns as
 * attribute numbers in key order (named from the relation's own columns by
 * the caller); a foreign key's referenced columns are named here, as that
 * relation may be in another batch or outside the schemas asked for.
 *
 * A foreign key that references a partitioned table is cloned by the server
 * once per partition on the referencing table (same conrelid, a conparentid):
 * those clones are internal and left out. A partition's own copy of its
 * parent's foreign key (a different conrelid) is a real constraint on that
 * partition and stays. (conparentid exists from PostgreSQL 11, as do the clones.)
 *
 * Lookups by oid are scalar subqueries, not joins: each is one index probe,
 * where a join lets the planner hash all of pg_class once per batch, which
 * grows with the database rather than the batch.
 */
export const constraints = (serverVersionNum: number) => `
SELECT con.conrelid::int8 AS oid, con.conname AS name, con.contype AS type, con.conkey AS keys,
       CASE WHEN con.contype = 'f' THEN (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = con.confrelid) END AS ref_schema,
       CASE WHEN con.contype = 'f' THEN (SELECT c.relname FROM pg_class c WHERE c.oid = con.confrelid) END AS ref_table,
       CASE WHEN con.contype = 'f' THEN
         (SELECT json_agg((SELECT a.attname FROM pg_attribute a WHERE a.attrelid = con.confrelid AND a.attnum = k.num) ORDER BY k.i)
            FROM unnest(con.confkey) WITH ORDINALITY k(num, i)) END AS ref_columns,
       con.confupdtype AS on_update, con.confdeltype AS on_delete,
       CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid) END AS definition
  FROM pg_constraint con
 WHERE con.conrelid = ANY ($1::oid[])
   AND con.contype IN ('p', 'u', 'f', 'c')
   ${serverVersionNum < 110000 ? '' : `AND NOT (con.contype = 'f' AND con.conparentid <> 0
            AND (SELECT p.conrelid FROM pg_constraint p WHERE p.oid = con.conparentid) = con.conrelid)`}`;

/**
 * Indexes with their key columns as attribute numbers (0 for an expression);
 * `expressions` lists every key column's text, only for an index that has an
 * expression column.
 *
 * `definition` is pg_get_indexdef's text. pg_get_indexdef opens the table
 * (building its relcache entry) for every index, which is most of what
 * describing a large database costs. For the common plain index (columns
 * only, default operator class and collation, no options, predicate or
 * INCLUDE) the same text is put together here from quote_ident, the function
 * pg_get_indexdef itself quotes with; every other index goes to
 * pg_get_indexdef. The tests compare the two on every kind of index.
 *
 * indnkeyatts exists from PostgreSQL 11, indnullsnotdistinct from 15.
 */
export const indexes = (serverVersionNum: number) => {
  const nkey = serverVersionNum >= 110000 ? 'i.indnkeyatts' : 'i.indnatts';
  const nullsNotDistinct = serverVersionNum >= 150000 ? 'AND NOT i.indnullsnotdistinct' : '';
  return `
SELECT i.indrelid::int8 AS oid, ic.relname AS name, i.indisunique AS is_unique, i.indisprimary AS is_primary,
       am.amname AS method,
       CASE WHEN i.indexprs IS NULL AND i.indpred IS NULL AND ic.relkind = 'i' AND ic.reloptions IS NULL
                 AND ${nkey} = i.indnatts ${nullsNotDistinct} AND kc.plain
            THEN 'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || quote_ident(ic.relname)
                 || ' ON ' || quote_ident(tc.nspname) || '.' || quote_ident(tc.relname)
                 || ' USING ' || quote_ident(am.amname) || ' (' || kc.names || ')'
            ELSE pg_get_indexdef(i.indexrelid) END AS definition,
       pg_get_expr(i.indpred, i.indrelid) AS predicate,
       (i.indkey::int2[])[0:${nkey} - 1] AS keys,
       CASE WHEN i.indexprs IS NOT NULL THEN
         ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, ${nkey}) k ORDER BY k) END AS expressions
  FROM pg_index i
  CROSS JOIN LATERAL (SELECT c.relname, c.relam, c.relkind, c.reloptions FROM pg_class c WHERE c.oid = i.indexrelid OFFSET 0) ic
  CROSS JOIN LATERAL (SELECT t.relname, n.nspname FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
                       WHERE t.oid = i.indrelid OFFSET 0) tc
  CROSS JOIN LATERAL (SELECT a.amname FROM pg_am a WHERE a.oid = ic.relam OFFSET 0) am
  -- Plain: every column in ascending order (no DESC/NULLS option), in its own collation,
  -- with the default operator class for exactly its type (pg_get_indexdef names any other).
  CROSS JOIN LATERAL (
    SELECT bool_and(i.indoption[k.n] = 0 AND i.indcollation[k.n] IN (0, a.attcollation)
                    AND o.opcdefault AND o.opcintype = a.atttypid) AS plain,
           string_agg(quote_ident(a.attname), ', ' ORDER BY k.n) AS names
      FROM generate_series(0, i.indnatts - 1) k(n)
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k.n]
      JOIN pg_opclass o ON o.oid = i.indclass[k.n]
  ) kc
 WHERE i.indrelid = ANY ($1::oid[])`;
};
