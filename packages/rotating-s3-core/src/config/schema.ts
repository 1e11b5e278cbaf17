/**
 * The stage configuration: its fields, defaults and validation (SPEC §8). Validation happens once, at the
 * edge (`resolveConfig`), and every message names the field, the bad value and where it came from.
 */
import { z } from 'zod';

// Each config is validated once per process: zod's JIT (which compiles a schema into a function with
// `new Function` on its first parse) costs more than it saves for a single parse, ~4 ms of a `log` call.
z.config({ jitless: true });

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
}

export const DEFAULTS = {
  prefix: '',
  fetchLimit: 25,
  timezone: 'UTC',
  recordsPath: '',
  forcePathStyle: false,
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
export const configFileSchema = z.strictObject({
  $schema: z.string().optional(),
  stage: z.string().regex(STAGE_NAME_PATTERN, 'must match ^[a-z][a-z0-9_]{0,62}$ (lowercase letter, then lowercase letters, digits or _)'),
  bucket: z.string().regex(BUCKET_PATTERN, 'must be a valid S3 bucket name (3-63 chars of a-z, 0-9, . and -)').optional(),
  prefix: z
    .string()
    .refine((p) => !hasControlChars(p), 'must not contain control characters')
    .refine((p) => !p.split('/').some((s) => s === '..' || s === '.'), 'must not contain "." or ".." segments')
    .optional(),
  localDir: z.string().min(1, 'must not be empty').optional(),
  fetchLimit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000, 'must be at most 100000').optional(),
  timezone: z.string().min(1).optional(),
  recordsPath: z.string().refine(isJsonPointer, 'must be a JSON Pointer such as "/matches" (RFC 6901), or "" for the whole payload').optional(),
  recordIdField: z.string().min(1, 'must not be empty').optional(),
  forcePathStyle: z.boolean().optional(),
});

/** A partial stage configuration as written in a file (or derived from the environment). */
export type StageConfigInput = z.infer<typeof configFileSchema>;

/** Same fields without `stage`, as used for overrides that cannot rename the stage (the environment). */
export const configOverrideSchema = configFileSchema.partial({ stage: true });
export type StageConfigOverride = z.infer<typeof configOverrideSchema>;

/** One line per problem: `field: message (got <value>)`. */
export function formatIssues(error: z.ZodError, source: string): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.join('.') || '(file)';
      if (issue.code === 'unrecognized_keys') {
        return `${source}: unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${Object.keys(configFileSchema.shape).filter((k) => k !== '$schema').join(', ')}`;
      }
      return `${source}: "${field}" ${issue.message}`;
    })
    .join('; ');
}
