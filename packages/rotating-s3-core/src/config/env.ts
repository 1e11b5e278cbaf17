/**
 * The environment layer of the config (SPEC §8): every `ROTATING_S3_*` variable the product reads, and
 * the S3 endpoint, validated when the config loads. A variable that sets a config field is converted
 * from text and then checked by that field's entry of the one schema (config/schema.ts); every message
 * names the variable and its value. An EMPTY variable is refused (it is almost always a typo such as
 * `ROTATING_S3_BUCKET=$BUKET`), except `ROTATING_S3_PREFIX=""`, which means the bucket root.
 * docs/configuration.md lists the same table.
 */
import * as v from 'valibot';
import { ConfigError } from '../errors.js';
import { configFileSchema, type StageConfigOverride } from './schema.js';

type Field = keyof typeof configFileSchema.entries;

interface FieldVariable {
  field: Field;
  /** Text to the field's JSON type; returns an error message for text that cannot be converted. */
  parse?: (text: string) => unknown;
}

const wholeNumber = (text: string): unknown =>
  /^\d+$/.test(text.trim()) ? Number(text.trim()) : new Error('is not a whole number; set it to the number of fetches per rotation, e.g. 25');
const trueFalse = (text: string): unknown => {
  const flag = text.trim().toLowerCase();
  return flag === 'true' || flag === 'false' ? flag === 'true' : new Error('must be "true" or "false"');
};

/** Variables that set a config field (precedence: above the stage config and --config). */
export const FIELD_VARIABLES: Record<string, FieldVariable> = {
  ROTATING_S3_BUCKET: { field: 'bucket' },
  ROTATING_S3_PREFIX: { field: 'prefix' },
  ROTATING_S3_LOCAL_DIR: { field: 'localDir' },
  ROTATING_S3_FETCH_LIMIT: { field: 'fetchLimit', parse: wholeNumber },
  ROTATING_S3_TIMEZONE: { field: 'timezone' },
  ROTATING_S3_FORCE_PATH_STYLE: { field: 'forcePathStyle', parse: trueFalse },
  ROTATING_S3_MAX_PENDING_AGE: { field: 'maxPendingAge' },
  ROTATING_S3_PAYLOAD_LAYOUT: { field: 'payloadLayout' },
  ROTATING_S3_SSE: { field: 'sse' },
  ROTATING_S3_SSE_KMS_KEY_ID: { field: 'sseKmsKeyId' },
  ROTATING_S3_STORAGE_CLASS: { field: 'storageClass' },
  ROTATING_S3_EXPECTED_BUCKET_OWNER: { field: 'expectedBucketOwner' },
};

/**
 * Variables read where they act (the writer, the CLI, the consumer), validated here so that a misspelt
 * value fails at start-up instead of being ignored. `check` returns what is wrong, or undefined.
 */
export const PROCESS_VARIABLES: Record<string, { check: (text: string) => string | undefined }> = {
  ROTATING_S3_SINGLE_WRITER: { check: (t) => (t === 'true' || t === 'false' ? undefined : 'must be "true" or "false"') },
  ROTATING_S3_COMPLETE_GUARD: { check: (t) => (t === 'if-match' || t === 'lease' ? undefined : 'must be "if-match" or "lease"') },
  ROTATING_S3_LOG_LEVEL: { check: (t) => (['debug', 'info', 'warn', 'error'].includes(t) ? undefined : 'must be one of debug, info, warn, error') },
  ROTATING_S3_PROGRESS: { check: (t) => (t === '0' || t === '1' ? undefined : 'must be "0" (no progress bars) or "1" (bars on a terminal, also in CI)') },
  ROTATING_S3_METRICS_FILE: { check: () => undefined },
  ROTATING_S3_CONSUMER_STATE_DIR: { check: () => undefined },
};

/** Prefixes of variables the project's own tests, benches and Python helper read (never the product). */
const FOREIGN_PREFIXES = ['ROTATING_S3_TEST_', 'ROTATING_S3_BENCH_', 'ROTATING_S3_PY_'];

/**
 * `ROTATING_S3_*` variables the product does not know, each with the known name it most likely meant: a
 * misspelt name (`ROTATING_S3_BUKET`) would otherwise be ignored without a word and the lower layer used.
 * The CLI prints one warning per name; nothing is refused, so a variable of a newer version does no harm.
 */
export function unknownVariables(env: NodeJS.ProcessEnv): Array<{ name: string; suggestion: string | undefined }> {
  const known = [...Object.keys(FIELD_VARIABLES), ...Object.keys(PROCESS_VARIABLES)];
  return Object.keys(env)
    .filter((name) => name.startsWith('ROTATING_S3_') && !known.includes(name) && !FOREIGN_PREFIXES.some((p) => name.startsWith(p)))
    .sort()
    .map((name) => {
      const [best] = known.map((k) => ({ k, d: editDistance(name, k) })).sort((a, b) => a.d - b.d);
      return { name, suggestion: best && best.d <= 3 ? best.k : undefined };
    });
}

/** Levenshtein distance (names are short: the two-row table is enough). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}

/** How the writer's default S3 store behaves (docs/configuration.md, "Operational settings"). */
export interface WriterSettings {
  /** ROTATING_S3_SINGLE_WRITER=true: an endpoint that ignores conditional writes is acceptable. */
  singleWriter: boolean;
  /** ROTATING_S3_COMPLETE_GUARD: forces the guard of large-object writes; undefined: probed. */
  completeGuard: 'if-match' | 'lease' | undefined;
}

/**
 * The writer's process variables, checked by the same rules as at config load (a bad value throws
 * ConfigError naming it): the one place the writer learns them from the environment.
 */
export function writerSettings(env: NodeJS.ProcessEnv = process.env): WriterSettings {
  const settings: WriterSettings = { singleWriter: false, completeGuard: undefined };
  for (const name of ['ROTATING_S3_SINGLE_WRITER', 'ROTATING_S3_COMPLETE_GUARD'] as const) {
    const text = env[name];
    if (text === undefined) continue;
    if (text === '') throw emptyError(name, 'the default');
    const problem = PROCESS_VARIABLES[name]!.check(text);
    if (problem) throw new ConfigError(`${show(name, text)}: ${problem}`);
  }
  settings.singleWriter = env['ROTATING_S3_SINGLE_WRITER'] === 'true';
  const guard = env['ROTATING_S3_COMPLETE_GUARD'];
  if (guard === 'if-match' || guard === 'lease') settings.completeGuard = guard;
  return settings;
}

/** The SDK's endpoint variables, most specific first (as the AWS SDK reads them). */
export const ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'] as const;

function show(name: string, value: string): string {
  const text = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return `${name}=${JSON.stringify(text)}`;
}

function emptyError(name: string, what: string): ConfigError {
  return new ConfigError(`${name} is set but empty; unset it to use ${what}, or give it a value`);
}

/** The variable that set `field`, if one did (to name it in later messages, e.g. an unknown timezone). */
export function variableOf(field: Field, env: NodeJS.ProcessEnv): string | undefined {
  return Object.entries(FIELD_VARIABLES).find(([name, spec]) => spec.field === field && env[name] !== undefined)?.[0];
}

/** The config fields set by the environment, each converted and checked by the schema. Throws ConfigError naming the variable. */
export function readEnvLayer(env: NodeJS.ProcessEnv): StageConfigOverride {
  const layer: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(FIELD_VARIABLES)) {
    const text = env[name];
    if (text === undefined) continue;
    if (text === '' && spec.field !== 'prefix') throw emptyError(name, `the "${spec.field}" of the stage config`);
    const value = spec.parse ? spec.parse(text) : text;
    if (value instanceof Error) throw new ConfigError(`${show(name, text)} ${value.message}`);
    const result = v.safeParse(configFileSchema.entries[spec.field], value);
    if (!result.success) throw new ConfigError(`${show(name, text)}: ${result.issues[0].message} (field "${spec.field}")`);
    layer[spec.field] = result.output;
  }
  for (const [name, spec] of Object.entries(PROCESS_VARIABLES)) {
    const text = env[name];
    if (text === undefined) continue;
    if (text === '') throw emptyError(name, 'the default');
    const problem = spec.check(text);
    if (problem) throw new ConfigError(`${show(name, text)}: ${problem}`);
  }
  checkEndpoint(env);
  return layer as StageConfigOverride;
}

/**
 * The endpoint must be an absolute http(s) URL: the SDK would otherwise fail on the first request
 * (`TypeError: Invalid URL`), after the fetch is logged, instead of at configuration time.
 */
export function checkEndpoint(env: NodeJS.ProcessEnv): void {
  for (const name of ENDPOINT_VARIABLES) {
    const text = env[name];
    if (text === undefined) continue;
    if (text === '') throw emptyError(name, 'AWS S3 (or the next endpoint variable)');
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
      throw new ConfigError(
        `${show(name, text)} is not an http(s) URL; write the scheme and host, e.g. http://127.0.0.1:9000 or https://s3.eu-central-1.amazonaws.com`,
      );
    }
  }
}
