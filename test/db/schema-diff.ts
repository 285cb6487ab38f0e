import type { ClientBase } from 'pg';
import type { DataModel, DmmfEnum, DmmfField, DmmfIndex, DmmfModel, ReferentialAction } from './prisma-datamodel';

/**
 * Compares a database (as introspected from the Postgres catalogs by `introspectDatabase`) with the
 * Prisma data model (DMMF, see prisma-datamodel.ts). `diffSchema` is pure: it returns one
 * human-readable line per difference, e.g.
 *   "orders.cancel_reason: nullable in database, required in schema.prisma (Order.cancelReason String)"
 * and an empty list when they agree.
 *
 * Checked: every model's table; every scalar/enum field's column (existence, nullability, type
 * including native type, default); no column without a field; primary keys; unique and plain
 * indexes (by columns, order, DESC, access method, and name where the schema maps one); foreign
 * keys with their referential actions; enums and their values in order; no table or enum in the
 * checked schemas without a model/enum. `_prisma_migrations` (Prisma's bookkeeping) is ignored.
 * Only the schemas the data model uses (normally just `public`) are checked; the inventory and
 * payment services keep their own tables in their own schemas.
 */

export interface DbColumn {
  name: string;
  /** format_type() of the column, with the implied precision made explicit: "timestamp(6) with time zone". */
  type: string;
  /** pg_type.typname of the column's type, or of its element type for an array ("OrderStatus", "int4"). */
  typeName: string;
  typeSchema: string;
  isEnum: boolean;
  isArray: boolean;
  nullable: boolean;
  /** pg_get_expr() of the column default, e.g. "CURRENT_TIMESTAMP", "nextval('s'::regclass)". */
  default: string | null;
  identity: boolean;
  generated: boolean;
}

export interface DbIndex {
  name: string;
  /** Key columns in order, "col" or "col DESC"; null for an expression. */
  columns: (string | null)[];
  unique: boolean;
  /** Access method: btree, hash, gin, gist, spgist, brin. */
  method: string;
  partial: boolean;
  definition: string;
}

export interface DbForeignKey {
  name: string;
  columns: string[];
  /** Display name of the referenced table (see `displayName`). */
  referencedTable: string;
  referencedColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
}

export interface DbTable {
  columns: DbColumn[];
  primaryKey: { name: string; columns: string[] } | null;
  /** Every index except the primary key's, unique ones (also those behind UNIQUE constraints) included. */
  indexes: DbIndex[];
  foreignKeys: DbForeignKey[];
}

export interface DbIntrospection {
  schemas: string[];
  /** By display name: "orders" in public, "schema.table" elsewhere. */
  tables: Record<string, DbTable>;
  /** Enum labels in order, by display name. */
  enums: Record<string, string[]>;
}

export const IGNORED_TABLES = new Set(['_prisma_migrations']);

export function displayName(schema: string, name: string): string {
  return schema === 'public' ? name : `${schema}.${name}`;
}

/** The database schemas the data model lives in: always public, plus any @@schema. */
export function schemasOf(dataModel: DataModel): string[] {
  return [...new Set(['public', ...dataModel.models.map((m) => m.schema ?? 'public'), ...dataModel.enums.map((e) => e.schema ?? 'public')])];
}

// ---------------------------------------------------------------------------------------------
// Introspection

const ACTIONS: Record<string, ReferentialAction> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };

/** Postgres leaves the default precision (6) of timestamp/time out of format_type(); spell it out. */
function normalizeType(formatted: string): string {
  return formatted.replace(/^(timestamp|time)(?! ?\()(?=( with| without)? time zone)/, '$1(6)');
}

export async function introspectDatabase(client: ClientBase, schemas: string[]): Promise<DbIntrospection> {
  const tables: Record<string, DbTable> = {};
  const enums: Record<string, string[]> = {};

  const tableRows = await client.query<{ schema: string; table: string }>(`
    SELECT n.nspname AS schema, c.relname AS table
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition`, [schemas]);
  for (const r of tableRows.rows) tables[displayName(r.schema, r.table)] = { columns: [], primaryKey: null, indexes: [], foreignKeys: [] };
  const table = (schema: string, name: string): DbTable | undefined => tables[displayName(schema, name)];

  const columns = await client.query<{
    schema: string; table: string; column: string; type: string; type_name: string; type_schema: string;
    typtype: string; is_array: boolean; not_null: boolean; default: string | null; identity: string; generated: string;
  }>(`
    SELECT n.nspname AS schema, c.relname AS table, a.attname AS column,
           format_type(a.atttypid, a.atttypmod) AS type,
           et.typname::text AS type_name, en.nspname::text AS type_schema, et.typtype::text AS typtype,
           (t.typcategory = 'A') AS is_array, a.attnotnull AS not_null,
           pg_get_expr(d.adbin, d.adrelid) AS default,
           a.attidentity::text AS identity, a.attgenerated::text AS generated
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    JOIN pg_type et ON et.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
    JOIN pg_namespace en ON en.oid = et.typnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY n.nspname, c.relname, a.attnum`, [schemas]);
  for (const r of columns.rows) {
    table(r.schema, r.table)?.columns.push({
      name: r.column,
      type: normalizeType(r.type),
      typeName: r.type_name,
      typeSchema: r.type_schema,
      isEnum: r.typtype === 'e',
      isArray: r.is_array,
      nullable: !r.not_null,
      default: r.default,
      identity: r.identity !== '',
      generated: r.generated !== '',
    });
  }

  const constraints = await client.query<{
    schema: string; table: string; name: string; type: string; columns: string[];
    ref_schema: string | null; ref_table: string | null; ref_columns: string[]; on_delete: string; on_update: string;
  }>(`
    SELECT n.nspname AS schema, c.relname AS table, con.conname AS name, con.contype::text AS type,
           ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
           rn.nspname AS ref_schema, rc.relname AS ref_table,
           ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns,
           con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update
    FROM pg_constraint con
    JOIN pg_class c ON c.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_class rc ON rc.oid = con.confrelid
    LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE n.nspname = ANY($1) AND con.contype IN ('p', 'f')
    ORDER BY con.conname`, [schemas]);
  for (const r of constraints.rows) {
    const t = table(r.schema, r.table);
    if (!t) continue;
    if (r.type === 'p') {
      t.primaryKey = { name: r.name, columns: r.columns };
    } else {
      t.foreignKeys.push({
        name: r.name,
        columns: r.columns,
        referencedTable: displayName(r.ref_schema!, r.ref_table!),
        referencedColumns: r.ref_columns,
        onDelete: ACTIONS[r.on_delete] ?? 'NoAction',
        onUpdate: ACTIONS[r.on_update] ?? 'NoAction',
      });
    }
  }

  const indexes = await client.query<{
    schema: string; table: string; name: string; unique: boolean; method: string; partial: boolean;
    columns: (string | null)[]; definition: string;
  }>(`
    SELECT n.nspname AS schema, c.relname AS table, ic.relname AS name, i.indisunique AS unique,
           am.amname::text AS method, (i.indpred IS NOT NULL) AS partial,
           ARRAY(SELECT CASE WHEN k.attnum = 0 THEN NULL
                             ELSE a.attname::text || CASE WHEN k.opt & 1 = 1 THEN ' DESC' ELSE '' END END
                 FROM unnest(i.indkey::int2[], i.indoption::int2[]) WITH ORDINALITY k(attnum, opt, ord)
                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS columns,
           pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam
    WHERE n.nspname = ANY($1) AND NOT i.indisprimary
    ORDER BY ic.relname`, [schemas]);
  for (const r of indexes.rows) {
    table(r.schema, r.table)?.indexes.push({
      name: r.name, columns: r.columns, unique: r.unique, method: r.method, partial: r.partial, definition: r.definition,
    });
  }

  const enumRows = await client.query<{ schema: string; name: string; labels: string[] }>(`
    SELECT n.nspname AS schema, t.typname::text AS name,
           ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = ANY($1) AND t.typtype = 'e'`, [schemas]);
  for (const r of enumRows.rows) enums[displayName(r.schema, r.name)] = r.labels;

  return { schemas, tables, enums };
}

// ---------------------------------------------------------------------------------------------
// The data model's side

/** Postgres type of each Prisma native type attribute (@db.X(args)), as format_type() spells it. */
const NATIVE_TYPES: Record<string, (args: string[]) => string> = {
  Text: () => 'text',
  Char: ([n]) => `character(${n ?? 1})`,
  VarChar: ([n]) => (n ? `character varying(${n})` : 'character varying'),
  Uuid: () => 'uuid',
  Xml: () => 'xml',
  Inet: () => 'inet',
  Citext: () => 'citext',
  Bit: ([n]) => `bit(${n ?? 1})`,
  VarBit: ([n]) => (n ? `bit varying(${n})` : 'bit varying'),
  Boolean: () => 'boolean',
  SmallInt: () => 'smallint',
  Integer: () => 'integer',
  BigInt: () => 'bigint',
  Oid: () => 'oid',
  Real: () => 'real',
  DoublePrecision: () => 'double precision',
  Decimal: (args) => (args.length ? `numeric(${args.join(',')})` : 'numeric'),
  Money: () => 'money',
  Timestamp: ([p]) => `timestamp(${p ?? 6}) without time zone`,
  Timestamptz: ([p]) => `timestamp(${p ?? 6}) with time zone`,
  Date: () => 'date',
  Time: ([p]) => `time(${p ?? 6}) without time zone`,
  Timetz: ([p]) => `time(${p ?? 6}) with time zone`,
  Json: () => 'json',
  JsonB: () => 'jsonb',
  ByteA: () => 'bytea',
};

/** What Prisma Migrate creates on Postgres for a scalar without a native type attribute. */
const DEFAULT_TYPES: Record<string, string> = {
  String: 'text',
  Boolean: 'boolean',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

const CLIENT_SIDE_DEFAULTS = new Set(['uuid', 'cuid', 'nanoid', 'ulid']);

function prismaType(field: DmmfField): string {
  const native = field.nativeType ? ` @db.${field.nativeType[0]}${field.nativeType[1].length ? `(${field.nativeType[1].join(', ')})` : ''}` : '';
  return `${field.type}${field.isList ? '[]' : field.isRequired ? '' : '?'}${native}`;
}

function fieldLabel(model: DmmfModel, field: DmmfField): string {
  return `${model.name}.${field.name} ${prismaType(field)}`;
}

const tableOf = (model: DmmfModel) => displayName(model.schema ?? 'public', model.dbName ?? model.name);
const enumNameOf = (e: DmmfEnum) => displayName(e.schema ?? 'public', e.dbName ?? e.name);
const columnOf = (field: DmmfField) => field.dbName ?? field.name;
const list = (items: readonly (string | null)[]) => items.map((c) => c ?? '<expression>').join(', ');
const sqlAction = (a: ReferentialAction) => a.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();

// ---------------------------------------------------------------------------------------------
// The comparison

export function diffSchema(dataModel: DataModel, db: DbIntrospection): string[] {
  const differences: string[] = [];
  const models = new Map(dataModel.models.map((m) => [m.name, m]));
  const enums = new Map(dataModel.enums.map((e) => [e.name, e]));

  for (const model of dataModel.models) {
    const tableName = tableOf(model);
    const table = db.tables[tableName];
    if (!table) {
      differences.push(`${tableName}: table missing in database (model ${model.name})`);
      continue;
    }
    const ctx: ModelContext = { model, tableName, table, models, enums, differences };
    diffColumns(ctx);
    diffPrimaryKey(ctx, dataModel.indexes.filter((i) => i.model === model.name && i.type === 'id'));
    diffIndexes(ctx, dataModel.indexes.filter((i) => i.model === model.name && i.type !== 'id'));
    diffForeignKeys(ctx);
  }

  const modelTables = new Set(dataModel.models.map(tableOf));
  for (const tableName of Object.keys(db.tables).sort()) {
    if (!modelTables.has(tableName) && !IGNORED_TABLES.has(tableName)) {
      differences.push(`${tableName}: table in database, no model in schema.prisma maps to it`);
    }
  }

  for (const e of dataModel.enums) {
    const name = enumNameOf(e);
    const actual = db.enums[name];
    const expected = e.values.map((v) => v.dbName ?? v.name);
    if (!actual) {
      differences.push(`enum ${name}: missing in database (enum ${e.name} { ${expected.join(' ')} })`);
    } else if (actual.join('\u0000') !== expected.join('\u0000')) {
      const missing = expected.filter((v) => !actual.includes(v));
      const extra = actual.filter((v) => !expected.includes(v));
      const detail = [
        ...(missing.length ? [`missing in database: ${missing.join(', ')}`] : []),
        ...(extra.length ? [`not in schema.prisma: ${extra.join(', ')}`] : []),
        ...(!missing.length && !extra.length ? ['same values in a different order'] : []),
      ].join('; ');
      differences.push(`enum ${name}: values in database [${actual.join(', ')}], schema.prisma [${expected.join(', ')}] (${detail})`);
    }
  }
  const modelEnums = new Set(dataModel.enums.map(enumNameOf));
  for (const name of Object.keys(db.enums).sort()) {
    if (!modelEnums.has(name)) differences.push(`enum ${name}: type in database, no enum in schema.prisma maps to it`);
  }
  return differences;
}

interface ModelContext {
  model: DmmfModel;
  tableName: string;
  table: DbTable;
  models: Map<string, DmmfModel>;
  enums: Map<string, DmmfEnum>;
  differences: string[];
}

function diffColumns({ model, tableName, table, enums, differences }: ModelContext): void {
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const fields = model.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum');
  for (const field of fields) {
    const where = `${tableName}.${columnOf(field)}`;
    const column = byName.get(columnOf(field));
    if (!column) {
      differences.push(`${where}: column missing in database (${fieldLabel(model, field)})`);
      continue;
    }
    // Prisma creates list columns without NOT NULL (a list cannot be optional in Prisma), so only scalars are checked.
    if (!field.isList && column.nullable !== !field.isRequired) {
      differences.push(field.isRequired
        ? `${where}: nullable in database, required in schema.prisma (${fieldLabel(model, field)})`
        : `${where}: required (NOT NULL) in database, optional in schema.prisma (${fieldLabel(model, field)})`);
    }
    const typeDifference = diffType(field, column, enums, model);
    if (typeDifference) differences.push(`${where}: ${typeDifference} (${fieldLabel(model, field)})`);
    const defaultDifference = diffDefault(field, column, enums);
    if (defaultDifference) differences.push(`${where}: ${defaultDifference} (${fieldLabel(model, field)})`);
  }
  const known = new Set(fields.map(columnOf));
  for (const column of table.columns) {
    if (!known.has(column.name)) {
      differences.push(`${tableName}.${column.name}: column in database, not in schema.prisma (model ${model.name} has no field mapped to it)`);
    }
  }
}

function describeColumnType(column: DbColumn): string {
  return column.isEnum ? `enum ${displayName(column.typeSchema, column.typeName)}${column.isArray ? '[]' : ''}` : column.type;
}

function diffType(field: DmmfField, column: DbColumn, enums: Map<string, DmmfEnum>, model: DmmfModel): string | null {
  let expected: string;
  let matches: boolean;
  if (field.kind === 'enum') {
    const e = enums.get(field.type);
    const enumSchema = e?.schema ?? model.schema ?? 'public';
    const enumName = e?.dbName ?? field.type;
    expected = `enum ${displayName(enumSchema, enumName)}${field.isList ? '[]' : ''}`;
    matches = column.isEnum && column.typeName === enumName && column.typeSchema === enumSchema && column.isArray === field.isList;
  } else {
    let base: string | undefined;
    if (field.nativeType) {
      const native = NATIVE_TYPES[field.nativeType[0]];
      if (!native) return `cannot check @db.${field.nativeType[0]}: add it to NATIVE_TYPES in test/db/schema-diff.ts`;
      base = native(field.nativeType[1]);
    } else {
      base = DEFAULT_TYPES[field.type];
      if (!base) return `cannot check type ${field.type}: add it to DEFAULT_TYPES in test/db/schema-diff.ts`;
    }
    expected = `${base}${field.isList ? '[]' : ''}`;
    matches = !column.isEnum && column.type === expected;
  }
  return matches ? null : `type ${describeColumnType(column)} in database, schema.prisma expects ${expected}`;
}

/** 'x''y'::character varying -> x'y ; (-1) -> -1 ; 'A'::"OrderStatus" -> A */
function literalOf(expression: string): string {
  let s = expression.trim();
  for (;;) {
    const next = s.replace(/::(?:"[^"]+"|[a-z_][a-z0-9_ ]*(?:\(\d+(?:,\s*\d+)?\))?)(?:\[\])*$/i, '').trim().replace(/^\((.*)\)$/s, '$1').trim();
    if (next === s) break;
    s = next;
  }
  const quoted = /^'(.*)'$/s.exec(s);
  return quoted ? quoted[1]!.replace(/''/g, "'") : s;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sameJson(a: string, b: string): boolean {
  try {
    return canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b));
  } catch {
    return a === b;
  }
}

function diffDefault(field: DmmfField, column: DbColumn, enums: Map<string, DmmfEnum>): string | null {
  const actual = column.identity ? 'GENERATED AS IDENTITY' : column.default;
  const inDb = actual === null ? 'no default in database' : `default ${actual} in database`;
  const d = field.default;
  if (d === undefined) return actual === null ? null : `${inDb}, schema.prisma has none`;
  if (typeof d === 'object' && !Array.isArray(d) && CLIENT_SIDE_DEFAULTS.has(d.name)) {
    return actual === null ? null : `${inDb}, schema.prisma has none (its @default(${d.name}()) is filled in by Prisma Client, not by the database)`;
  }
  if (typeof d === 'object' && !Array.isArray(d)) {
    const wanted = `@default(${d.name}(${d.args.map((a) => JSON.stringify(a)).join(', ')}))`;
    const ok = d.name === 'autoincrement' ? column.identity || /^nextval\(/i.test(column.default ?? '')
      : d.name === 'now' ? /^(current_timestamp(\(\d\))?|now\(\)|transaction_timestamp\(\)|localtimestamp(\(\d\))?)$/i.test(column.default ?? '')
      : actual !== null; // dbgenerated(...) and the like: the expression is the database's business, but there must be one
    return ok ? null : `${inDb}, schema.prisma has ${wanted}`;
  }
  const wanted = `@default(${JSON.stringify(d)})`;
  if (column.default === null) return `${inDb}, schema.prisma has ${wanted}`;
  if (Array.isArray(d)) return null; // a list literal: its presence is checked, its spelling is not
  const literal = literalOf(column.default);
  let ok: boolean;
  if (typeof d === 'number') ok = Number(literal) === d;
  else if (typeof d === 'boolean') ok = literal.toLowerCase() === String(d);
  else if (field.kind === 'enum') ok = literal === (enums.get(field.type)?.values.find((v) => v.name === d)?.dbName ?? d);
  else if (field.type === 'Json') ok = sameJson(literal, d);
  else if (field.type === 'String') ok = literal === d;
  else if (field.type === 'Decimal' || field.type === 'BigInt' || field.type === 'Int' || field.type === 'Float') ok = Number(literal) === Number(d);
  else ok = true; // DateTime / Bytes literals: presence only
  return ok ? null : `${inDb}, schema.prisma has ${wanted}`;
}

function columnsOfIndex(model: DmmfModel, index: DmmfIndex): string[] {
  return index.fields.map((f) => {
    const field = model.fields.find((x) => x.name === f.name);
    return `${field ? columnOf(field) : f.name}${f.sortOrder === 'desc' ? ' DESC' : ''}`;
  });
}

function indexAttribute(model: DmmfModel, index: DmmfIndex): string {
  const fields = index.fields.map((f) => `${f.name}${f.sortOrder === 'desc' ? '(sort: Desc)' : ''}`).join(', ');
  if (index.type === 'id') return index.isDefinedOnField ? `@id on ${model.name}.${fields}` : `@@id([${fields}])`;
  if (index.type === 'unique') return index.isDefinedOnField ? `@unique on ${model.name}.${fields}` : `@@unique([${fields}])`;
  return `@@index([${fields}]${index.algorithm ? `, type: ${index.algorithm}` : ''})`;
}

function diffPrimaryKey({ model, tableName, table, differences }: ModelContext, ids: DmmfIndex[]): void {
  const id = ids[0];
  const actual = table.primaryKey;
  if (!id) {
    if (actual) differences.push(`${tableName}: primary key ${actual.name} (${list(actual.columns)}) in database, schema.prisma has no @id/@@id`);
    return;
  }
  const expected = columnsOfIndex(model, id).map((c) => c.replace(/ DESC$/, ''));
  if (!actual) {
    differences.push(`${tableName}: no primary key in database, schema.prisma has ${indexAttribute(model, id)} -> (${list(expected)})`);
  } else if (actual.columns.join(',') !== expected.join(',')) {
    differences.push(`${tableName}: primary key (${list(actual.columns)}) in database, schema.prisma has ${indexAttribute(model, id)} -> (${list(expected)})`);
  } else if (id.dbName && actual.name !== id.dbName) {
    differences.push(`${tableName}: primary key is named ${actual.name} in database, schema.prisma maps it to ${id.dbName}`);
  }
}

/** Indexes that exist only in migrations because schema.prisma cannot express them, and why. */
export const SQL_ONLY_INDEXES: Record<string, string> = {
  outbox_events_unpublished_idx: 'partial index (WHERE published_at IS NULL) for the outbox relay; migration 20261121150000_event_pipeline',
};

function diffIndexes({ model, tableName, table, differences }: ModelContext, expectedIndexes: DmmfIndex[]): void {
  const unmatched = table.indexes.filter((i) => !(i.name in SQL_ONLY_INDEXES));
  for (const index of expectedIndexes) {
    const unique = index.type === 'unique';
    const columns = columnsOfIndex(model, index);
    const method = (index.algorithm ?? 'BTree').toLowerCase();
    const kind = unique ? 'unique index' : 'index';
    const at = unmatched.findIndex((i) => i.unique === unique && i.method === method && !i.partial && i.columns.join('\u0000') === columns.join('\u0000'));
    if (at < 0) {
      differences.push(`${tableName}: ${kind} on (${list(columns)})${method === 'btree' ? '' : ` using ${method}`} missing in database (${indexAttribute(model, index)})`);
      continue;
    }
    const [found] = unmatched.splice(at, 1);
    if (index.dbName && found!.name !== index.dbName) {
      differences.push(`${tableName}: ${kind} on (${list(columns)}) is named ${found!.name} in database, schema.prisma maps it to ${index.dbName}`);
    }
  }
  for (const i of unmatched) {
    const kind = i.unique ? 'unique index' : 'index';
    const shape = i.partial || i.columns.includes(null) ? i.definition : `on (${list(i.columns)})${i.method === 'btree' ? '' : ` using ${i.method}`}`;
    differences.push(`${tableName}: ${kind} ${i.name} ${shape} in database, not in schema.prisma`);
  }
}

function diffForeignKeys({ model, tableName, table, models, differences }: ModelContext): void {
  const unmatched = [...table.foreignKeys];
  for (const field of model.fields) {
    if (field.kind !== 'object' || !field.relationFromFields?.length) continue;
    const target = models.get(field.type);
    if (!target) continue;
    const columns = field.relationFromFields.map((name) => columnOf(model.fields.find((f) => f.name === name) ?? ({ name } as DmmfField)));
    const referencedTable = tableOf(target);
    const referencedColumns = (field.relationToFields ?? []).map((name) => columnOf(target.fields.find((f) => f.name === name) ?? ({ name } as DmmfField)));
    // Prisma's defaults: onDelete Restrict for a required relation, SetNull for an optional one; onUpdate Cascade.
    const onDelete = field.relationOnDelete ?? (field.isRequired ? 'Restrict' : 'SetNull');
    const onUpdate = field.relationOnUpdate ?? 'Cascade';
    const shape = `foreign key (${list(columns)}) -> ${referencedTable}(${list(referencedColumns)})`;
    const at = unmatched.findIndex((fk) => fk.columns.join(',') === columns.join(',') && fk.referencedTable === referencedTable
      && fk.referencedColumns.join(',') === referencedColumns.join(','));
    if (at < 0) {
      differences.push(`${tableName}: ${shape} missing in database (${model.name}.${field.name} @relation)`);
      continue;
    }
    const [fk] = unmatched.splice(at, 1);
    if (fk!.onDelete !== onDelete) {
      differences.push(`${tableName}: ${shape}: ON DELETE ${sqlAction(fk!.onDelete)} in database, schema.prisma has onDelete: ${onDelete} (${model.name}.${field.name})`);
    }
    if (fk!.onUpdate !== onUpdate) {
      differences.push(`${tableName}: ${shape}: ON UPDATE ${sqlAction(fk!.onUpdate)} in database, schema.prisma has onUpdate: ${onUpdate} (${model.name}.${field.name})`);
    }
  }
  for (const fk of unmatched) {
    differences.push(`${tableName}: foreign key ${fk.name} (${list(fk.columns)}) -> ${fk.referencedTable}(${list(fk.referencedColumns)}) in database, not in schema.prisma`);
  }
}
