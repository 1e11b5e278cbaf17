/**
 * Resolves a stage's configuration from its layers, lowest precedence first (SPEC §8):
 * built-in defaults < the stage config (`stages.config.json` entry or a stage package's generated config)
 * < `--config <file>` < environment. Relative `localDir` values resolve against the working directory.
 * Credentials are never read from or written to these files: the AWS SDK's default chain supplies them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as v from 'valibot';
import { ConfigError } from '../errors.js';
import { resolveZone } from '../time/zone.js';
import { readEnvLayer, variableOf } from './env.js';
import {
  DEFAULTS,
  KMS_SSE,
  STAGE_NAME_PATTERN,
  configFileSchema,
  CONFIG_FIELDS,
  stageEntrySchema,
  formatIssues,
  type StageConfig,
  type StageConfigInput,
} from './schema.js';

/** Name of the workspace-level stage config, found by walking up from the working directory. */
export const STAGES_FILE_NAME = 'stages.config.json';

export interface ResolveConfigOptions {
  /** Stage name asked for (`--stage`); may be omitted when a layer names it. */
  stage?: string;
  /** The stage's own config (a stage package passes its generated `stage.config.json` here); validated like every layer. */
  stageConfig?: StageConfigInput;
  /** Where `stageConfig` came from, for messages. Default: "stage.config.json". */
  stageConfigSource?: string;
  /** Path of a `--config` file. */
  configFile?: string;
  /** Path of the workspace stage config; default: the nearest `stages.config.json` above `cwd`. */
  stagesFile?: string;
  /** Environment to read overrides from. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Directory relative paths resolve against. Default: `process.cwd()`. */
  cwd?: string;
}

/** Validates a stage name and explains the rule when it does not match. */
export function assertStageName(name: string, source = 'stage'): string {
  if (!STAGE_NAME_PATTERN.test(name)) {
    throw new ConfigError(
      `${source}: invalid stage name ${JSON.stringify(name)}; use ^[a-z][a-z0-9_]{0,62}$ (e.g. "merge", "pretty_print"), it becomes part of file paths and S3 keys`,
      { code: 'E_STAGE_NAME' },
    );
  }
  return name;
}

function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`${what} ${path} cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'}); check the path`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${what} ${path} is not valid JSON (${(cause as Error).message}); fix the file`, { cause });
  }
}

function parseLayer<T>(schema: v.GenericSchema<unknown, T>, value: unknown, source: string, allowed: readonly string[] = CONFIG_FIELDS): T {
  // valibot's object schemas take arrays for objects; a config is always a JSON object.
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      `${source}: must be a JSON object such as {"stage": "merge", ...} (got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)})`,
    );
  }
  const result = v.safeParse(schema, value);
  if (!result.success) throw new ConfigError(formatIssues(result.issues, source, allowed));
  return result.output;
}

/** Reads and validates a `--config` file (unknown fields refused). */
export function readConfigFile(path: string): StageConfigInput {
  return parseLayer(configFileSchema, readJsonFile(path, 'config file'), `config file ${path}`);
}

const stagesFileSchema = v.strictObject({
  $schema: v.optional(v.string('must be a string')),
  stages: v.array(v.record(v.string(), v.unknown(), 'must be an object (one stage)'), 'must be an array of stages'),
});

/** A stage entry of `stages.config.json`: the runtime fields plus generator-only metadata. */
export type StagesFileEntry = v.InferOutput<typeof stageEntrySchema>;

const ENTRY_FIELDS = Object.keys(stageEntrySchema.entries).filter((k) => k !== '$schema');

/** Reads `stages.config.json`: `{ "stages": [ { "stage": "merge", ... }, ... ] }`. */
export function readStagesFile(path: string): StagesFileEntry[] {
  const file = parseLayer(stagesFileSchema, readJsonFile(path, 'stage config'), `stage config ${path}`, ['stages']);
  const seen = new Set<string>();
  return file.stages.map((raw, index) => {
    const entry = parseLayer(stageEntrySchema, raw, `stage config ${path} stages[${index}]`, ENTRY_FIELDS);
    if (seen.has(entry.stage)) throw new ConfigError(`stage config ${path}: stage "${entry.stage}" is listed twice; keep one entry`);
    seen.add(entry.stage);
    return entry;
  });
}

/** A problem of a stage entry, for callers that phrase their own message (the generator: `--fetchLimit`). */
export interface StageEntryProblem {
  /** The field (`fetchLimit`), or `(entry)` for the entry as a whole. */
  field: string;
  message: string;
  /** The bad value (absent for an unknown or missing field). */
  input?: unknown;
}

/**
 * Checks a stage entry (`stages.config.json`, the generator's options) by the same rules as
 * `resolveConfig`: the schema, the timezone and the object settings. Empty when it is valid.
 */
export function checkStageEntry(value: unknown): StageEntryProblem[] {
  const result = v.safeParse(stageEntrySchema, value);
  if (!result.success) {
    return result.issues.map((issue) => {
      const last = issue.path?.at(-1);
      if (last?.origin === 'key') {
        const field = String(last.key);
        return { field, message: issue.expected === 'never' ? `is not a stage setting; allowed: ${ENTRY_FIELDS.join(', ')}` : 'is required' };
      }
      return { field: v.getDotPath(issue) || '(entry)', message: issue.message, input: issue.input };
    });
  }
  const problems: StageEntryProblem[] = [];
  try {
    if (result.output.timezone !== undefined) resolveZone(result.output.timezone, 'timezone');
  } catch (error) {
    // Said after the value by the caller: `--timezone "X" is not an IANA timezone; use …`.
    const said = (error as Error).message
      .replace(/^timezone: /, '')
      .replace(/^unknown timezone "[^"]*"/, 'is not an IANA timezone')
      .replace(/^"[^"]*" is a fixed/, 'is a fixed');
    problems.push({ field: 'timezone', message: said, input: result.output.timezone });
  }
  try {
    checkObjectSettings(result.output, {});
  } catch (error) {
    problems.push({ field: 'sseKmsKeyId', message: (error as Error).message, input: result.output.sseKmsKeyId });
  }
  return problems;
}

/** A KMS key only with a KMS `sse`; judged on the merged config, as layers may set them apart. */
function checkObjectSettings(merged: Pick<StageConfigInput, 'sse' | 'sseKmsKeyId'>, env: NodeJS.ProcessEnv): void {
  if (merged.sseKmsKeyId !== undefined && !KMS_SSE.includes(merged.sse ?? '')) {
    const from = variableOf('sseKmsKeyId', env) ?? '"sseKmsKeyId"';
    throw new ConfigError(
      `${from} is set (${JSON.stringify(merged.sseKmsKeyId)}) but "sse" is ${merged.sse === undefined ? 'unset' : JSON.stringify(merged.sse)}; a KMS key applies only with "sse": "aws:kms" or "aws:kms:dsse" (ROTATING_S3_SSE): set it, or remove the key id`,
    );
  }
}

/** The nearest `stages.config.json` at or above `dir`, if any. */
export function findStagesFile(dir: string): string | undefined {
  for (let current = resolve(dir); ; current = dirname(current)) {
    const candidate = join(current, STAGES_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    if (dirname(current) === current) return undefined;
  }
}

function normalisePrefix(prefix: string): string {
  return prefix.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * Resolves and validates the full configuration of one stage. Throws ConfigError (exit 2) naming the
 * field, the bad value and the layer it came from.
 */
export function resolveConfig(options: ResolveConfigOptions): StageConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.stage !== undefined) assertStageName(options.stage, '--stage');

  const fileLayer = options.configFile === undefined ? undefined : readConfigFile(resolve(cwd, options.configFile));
  const stage = options.stage ?? options.stageConfig?.stage ?? fileLayer?.stage;
  if (stage === undefined) {
    throw new ConfigError('no stage given; pass --stage <name> or --config <file> with a "stage" field');
  }
  if (fileLayer && fileLayer.stage !== stage) {
    throw new ConfigError(`config file ${options.configFile} describes stage "${fileLayer.stage}", not "${stage}"; use a config file for "${stage}"`);
  }

  // A stage package's own config is a file a person can edit: it goes through the schema like the rest.
  let stageLayer: StageConfigInput | undefined =
    options.stageConfig === undefined ? undefined : parseLayer(configFileSchema, options.stageConfig, options.stageConfigSource ?? 'stage.config.json');
  if (stageLayer && stageLayer.stage !== stage) {
    throw new ConfigError(`the stage config describes stage "${stageLayer.stage}", not "${stage}"`);
  }
  if (!stageLayer) {
    const stagesFile = options.stagesFile ?? findStagesFile(cwd);
    const entry = stagesFile ? readStagesFile(stagesFile).find((s) => s.stage === stage) : undefined;
    if (entry) {
      const { recordType: _r, description: _d, ...runtime } = entry;
      stageLayer = runtime;
    } else if (!fileLayer) {
      const where = stagesFile ? `in ${stagesFile}` : `(no ${STAGES_FILE_NAME} found above ${cwd})`;
      throw new ConfigError(`stage "${stage}" is not configured ${where}; add it there (npm run generate:stage -- --name ${stage}) or pass --config <file>`);
    }
  }

  const envLayer = readEnvLayer(env);
  const merged = { ...DEFAULTS, ...stageLayer, ...fileLayer, ...envLayer, stage };
  const zone = resolveZone(merged.timezone, variableOf('timezone', env) ?? 'timezone');
  checkObjectSettings(merged, env);
  return {
    stage,
    bucket: merged.bucket,
    prefix: normalisePrefix(merged.prefix),
    localDir: resolve(cwd, merged.localDir ?? join('logs', stage)),
    fetchLimit: merged.fetchLimit,
    timezone: zone.id(),
    recordsPath: merged.recordsPath,
    recordIdField: merged.recordIdField,
    forcePathStyle: merged.forcePathStyle,
    ...(merged.sse === undefined ? {} : { sse: merged.sse }),
    ...(merged.sseKmsKeyId === undefined ? {} : { sseKmsKeyId: merged.sseKmsKeyId }),
    ...(merged.storageClass === undefined ? {} : { storageClass: merged.storageClass }),
    ...(merged.expectedBucketOwner === undefined ? {} : { expectedBucketOwner: merged.expectedBucketOwner }),
    ...(merged.maxPendingAge !== undefined && merged.maxPendingAge !== 'off' ? { maxPendingAge: merged.maxPendingAge.trim() } : {}),
    payloadLayout: merged.payloadLayout,
  };
}
