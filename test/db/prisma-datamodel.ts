import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The Prisma data model (DMMF) of prisma/schema.prisma, as Prisma itself computes it.
 *
 * `getDMMF` (@prisma/internals) is not installed, and the generated client only carries a stripped
 * runtime data model (no nullability, native types, ids, uniques, indexes or enums). So we ask the
 * Prisma CLI: `prisma generate` parses and validates the schema with its own schema wasm and hands
 * the full DMMF to every generator. We run it on a copy of schema.prisma with one extra generator
 * block (dmmf-generator.cjs, selected with --generator so the real client generator does not run)
 * that writes `dmmf.datamodel` to a file. Offline: `prisma generate` needs no engine, and
 * PRISMA_SCHEMA_ENGINE_BINARY skips the engine download it would otherwise try first (as in
 * scripts/prisma-generate.js).
 */
export const SCHEMA_PATH = join(__dirname, '..', '..', 'prisma', 'schema.prisma');

export type ReferentialAction = 'Cascade' | 'Restrict' | 'NoAction' | 'SetNull' | 'SetDefault';

export interface DmmfFieldDefault {
  name: string; // autoincrement, now, uuid, cuid, nanoid, ulid, dbgenerated, sequence
  args: unknown[];
}

export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isUnique: boolean;
  isId: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  /** A function default ({name, args}) or a literal (string, number, boolean, list). */
  default?: DmmfFieldDefault | string | number | boolean | unknown[];
  hasDefaultValue: boolean;
  isUpdatedAt?: boolean;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: ReferentialAction;
  relationOnUpdate?: ReferentialAction;
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  schema?: string | null;
  fields: DmmfField[];
}

export interface DmmfEnum {
  name: string;
  dbName?: string | null;
  schema?: string | null;
  values: { name: string; dbName: string | null }[];
}

export interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  isDefinedOnField: boolean;
  /** Only when the schema names it (map: "..."). */
  dbName?: string;
  /** Only when not the default BTree: Hash, Gin, Gist, SpGist, Brin. */
  algorithm?: string;
  fields: { name: string; sortOrder?: 'asc' | 'desc'; length?: number; operatorClass?: unknown }[];
}

export interface DataModel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

const GENERATOR = join(__dirname, 'dmmf-generator.cjs');

export async function loadDataModel(schemaPath = SCHEMA_PATH): Promise<DataModel> {
  const work = mkdtempSync(join(tmpdir(), 'dmmf-'));
  try {
    const schemaCopy = join(work, 'schema.prisma');
    const output = join(work, 'datamodel.json');
    // Prisma string literals take JSON-style escapes.
    writeFileSync(schemaCopy, `${readFileSync(schemaPath, 'utf8')}

generator dmmf_datamodel_dump {
  provider = ${JSON.stringify(`"${process.execPath}" "${GENERATOR}"`)}
  output   = ${JSON.stringify(output)}
}
`);
    const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1', NO_COLOR: '1' };
    if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
    try {
      // cwd is the temporary directory, so no prisma.config.ts is picked up: only the schema matters here.
      await promisify(execFile)(process.execPath,
        [require.resolve('prisma/build/index.js'), 'generate', '--schema', schemaCopy, '--generator', 'dmmf_datamodel_dump'],
        { cwd: work, env, timeout: 60_000 });
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`prisma generate (DMMF dump) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
    const dataModel = JSON.parse(readFileSync(output, 'utf8')) as DataModel;
    if (!Array.isArray(dataModel.models) || !Array.isArray(dataModel.enums) || !Array.isArray(dataModel.indexes)) {
      throw new Error('the DMMF from prisma generate has no models/enums/indexes: has its format changed?');
    }
    return dataModel;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
