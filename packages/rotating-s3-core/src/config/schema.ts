/**
 * The stage configuration: its fields, defaults and validation (SPEC §8). Validation happens once, at the
 * edge (`resolveConfig`), and every message names the field, the bad value and where it came from.
 */
import * as v from 'valibot';
import { DURATION_HINT, parseDuration } from '../time/duration.js';

/** A stage name becomes part of file paths and S3 keys, so it is deliberately narrow. */
export const STAGE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/** S3 bucket naming rules (the subset that is portable across AWS and S3-compatible providers). */
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Fully resolved settings of one stage. Every path is absolute. */
export interface StageConfig {
  /** Stage name, `^[a-z][a-z0-9_]{0,62}$`. Names the local files, the bin and the daily object keys. Required. */
  stage: string;
  /** S3 bucket holding the daily objects. No default: required by every command that talks to S3. */
  bucket: string | undefined;
  /** Key prefix ("folder") of the daily objects, without leading or trailing `/`. Default: `""` (bucket root). */
  prefix: string;
  /** Directory of the stage's local bookended file and state. Default: `logs/<stage>` under the working directory. */
  localDir: string;
  /** Fetches per rotation: when this many fetches are pending they are uploaded as one upload. Default: 25. */
  fetchLimit: number;
  /** IANA timezone whose local midnight starts a new day (and a new fetch numbering). Default: `UTC`. */
  timezone: string;
  /** JSON Pointer (RFC 6901) to the records array inside a payload. Default: `""` (the payload itself). */
  recordsPath: string;
  /** Field of a record that identifies it for downstream dedup. Default: none (a content hash is used). */
  recordIdField: string | undefined;
  /** Use path-style S3 URLs (`endpoint/bucket/key`), needed by most S3-compatible servers. Default: false. */
  forcePathStyle: boolean;
  /**
   * Layout of each payload between the markers of the local bookended file: `pretty` (2-space indent, one
   * value per line) or `compact` (the whole payload on one line, easier to `tail -f`). Readers accept both,
   * and the daily object always holds the payload compact. Default: `pretty`.
   */
  payloadLayout?: PayloadLayout | undefined;
  /** Server-side encryption of every object written (`AES256`, `aws:kms`, `aws:kms:dsse`). Default: none (the bucket's default). */
  sse?: ServerSideEncryption | undefined;
  /** KMS key (id, ARN or alias) for `sse` `aws:kms`/`aws:kms:dsse`. Default: the account's `aws/s3` key. */
  sseKmsKeyId?: string | undefined;
  /** Storage class of every object written. Default: none (S3's STANDARD). */
  storageClass?: StorageClass | undefined;
  /** 12-digit AWS account id that must own the bucket; sent on every request. Default: none. */
  expectedBucketOwner?: string | undefined;
  /**
   * Rotation by age: pending fetches are uploaded once the oldest has waited this long, even below
   * `fetchLimit` (`log` checks it on every call, an in-process logger also with a timer). A duration such as
   * `15m` (s, m, h or d; 1s to 7d). Default: unset (off; `"off"` in a higher layer turns it off again).
   */
  maxPendingAge?: string | undefined;
}

/** `sse` values (S3's ServerSideEncryption, without SSE-C which needs a key per request). */
export const SSE_VALUES = ['AES256', 'aws:kms', 'aws:kms:dsse'] as const;
export type ServerSideEncryption = (typeof SSE_VALUES)[number];
/**
 * Storage classes whose objects stay readable and copyable at once: a daily object is read back and
 * copied (server-side append) during the day, so archive classes (GLACIER, DEEP_ARCHIVE) and
 * directory-bucket or device classes (EXPRESS_ONEZONE, OUTPOSTS, SNOW) are refused.
 */
export const STORAGE_CLASSES = ['STANDARD', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'REDUCED_REDUNDANCY'] as const;
export type StorageClass = (typeof STORAGE_CLASSES)[number];
/** `sse` values that take a KMS key. */
export const KMS_SSE: readonly string[] = ['aws:kms', 'aws:kms:dsse'];

/** See `StageConfig.payloadLayout`. */
export type PayloadLayout = 'pretty' | 'compact';

export const DEFAULTS = {
  prefix: '',
  fetchLimit: 25,
  timezone: 'UTC',
  recordsPath: '',
  forcePathStyle: false,
  payloadLayout: 'pretty',
} as const;

/** Checks RFC 6901 syntax: empty, or `/`-separated tokens where `~` is only followed by 0 or 1. */
export function isJsonPointer(value: string): boolean {
  return value === '' || /^(\/([^~]|~[01])*)+$/.test(value);
}

function hasControlChars(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(value);
}

/** The shape of a `--config` file and of a stage entry in the stage config: every field optional but `stage`. */
export const configFileSchema = v.strictObject({
  $schema: v.optional(v.string('must be a string')),
  stage: v.pipe(
    v.string('must be a string'),
    v.regex(STAGE_NAME_PATTERN, 'must match ^[a-z][a-z0-9_]{0,62}$ (lowercase letter, then lowercase letters, digits or _)'),
  ),
  bucket: v.optional(v.pipe(v.string('must be a string'), v.regex(BUCKET_PATTERN, 'must be a valid S3 bucket name (3-63 chars of a-z, 0-9, . and -)'))),
  prefix: v.optional(
    v.pipe(
      v.string('must be a string'),
      v.check((p) => !hasControlChars(p), 'must not contain control characters'),
      v.check((p) => !p.split('/').some((s) => s === '..' || s === '.'), 'must not contain "." or ".." segments'),
    ),
  ),
  localDir: v.optional(v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'))),
  fetchLimit: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.integer('must be a whole number'),
      v.minValue(1, 'must be at least 1'),
      v.maxValue(100_000, 'must be at most 100000'),
    ),
  ),
  timezone: v.optional(v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'))),
  recordsPath: v.optional(
    v.pipe(v.string('must be a string'), v.check(isJsonPointer, 'must be a JSON Pointer such as "/matches" (RFC 6901), or "" for the whole payload')),
  ),
  recordIdField: v.optional(v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'))),
  forcePathStyle: v.optional(v.boolean('must be true or false')),
  payloadLayout: v.optional(v.picklist(['pretty', 'compact'], 'must be "pretty" or "compact"')),
  // Object settings (docs/production.md); whether sseKmsKeyId fits sse is checked on the merged config.
  sse: v.optional(v.picklist(SSE_VALUES, `must be one of ${SSE_VALUES.join(', ')}`)),
  sseKmsKeyId: v.optional(
    v.pipe(v.string('must be a string'), v.regex(/^[A-Za-z0-9:/_.-]{1,2048}$/, 'must be a KMS key id, key ARN, alias (alias/…) or alias ARN')),
  ),
  storageClass: v.optional(v.picklist(STORAGE_CLASSES, `must be one of ${STORAGE_CLASSES.join(', ')} (archive classes cannot be appended to)`)),
  expectedBucketOwner: v.optional(v.pipe(v.string('must be a string'), v.regex(/^\d{12}$/, 'must be a 12-digit AWS account id such as "111122223333"'))),
  maxPendingAge: v.optional(
    v.pipe(
      v.string('must be a string'),
      v.check((d) => d === 'off' || parseDuration(d) !== undefined, `must be ${DURATION_HINT}, or "off"`),
    ),
  ),
});

/** A stage entry of `stages.config.json` (and the generator's options): the config fields plus generator-only metadata. */
export const stageEntrySchema = v.strictObject({
  ...configFileSchema.entries,
  recordType: v.optional(v.pipe(v.string('must be a string'), v.regex(STAGE_NAME_PATTERN, 'must be a lowercase word such as match or incident'))),
  description: v.optional(v.string('must be a string')),
});

/** A partial stage configuration as written in a file (or derived from the environment). */
export type StageConfigInput = v.InferOutput<typeof configFileSchema>;

/** Same fields without `stage`, as used for overrides that cannot rename the stage (the environment). */
export const configOverrideSchema = v.partial(configFileSchema, ['stage']);
export type StageConfigOverride = v.InferOutput<typeof configOverrideSchema>;

/** The config fields a user may write (what an unknown-field message offers instead). */
export const CONFIG_FIELDS = Object.keys(configFileSchema.entries).filter((k) => k !== '$schema');

/** A bad value as the user wrote it, shortened: `"10"`, `2.5`, `["a"]`. */
function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * One line per problem: `"field" message (got <value>)`. An unknown field is reported with every unknown
 * field of that object (valibot stops at the first) and the fields `allowed` there; a missing one as
 * required.
 */
export function formatIssues(issues: readonly v.BaseIssue<unknown>[], source: string, allowed: readonly string[]): string {
  return issues
    .map((issue) => {
      const last = issue.path?.at(-1);
      const field = v.getDotPath(issue) || '(file)';
      if (last?.origin === 'key') {
        // valibot's object schemas report both kinds at the key: an unknown key expects "never".
        if (issue.expected !== 'never') return `${source}: "${field}" is required`;
        const unknown = Object.keys(last.input as Record<string, unknown>).filter((k) => k !== '$schema' && !allowed.includes(k));
        return `${source}: unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${allowed.join(', ')}`;
      }
      return `${source}: "${field}" ${issue.message} (got ${preview(issue.input)})`;
    })
    .join('; ');
}
