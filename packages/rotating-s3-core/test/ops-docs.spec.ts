/**
 * The docs stay in step with the code: every error code has a troubleshooting row (cause → fix), every
 * configuration field and ROTATING_S3_* variable is in the configuration reference, every metric is in the
 * monitoring reference.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METRICS, configFileSchema } from '../src/index.js';
import { ENDPOINT_VARIABLES, FIELD_VARIABLES, PROCESS_VARIABLES } from '../src/config/env.js';

const CORE = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const DOCS = join(CORE, '..', '..', 'docs');
const doc = (name: string) => readFileSync(join(DOCS, name), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The members of `export type ErrorCode = | 'E_…' | …` in src/errors.ts. */
function errorCodes(): string[] {
  const source = readFileSync(join(CORE, 'src', 'errors.ts'), 'utf8');
  const union = /export type ErrorCode =([^;]+);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/'(E_[A-Z0-9_]+)'/g)].map((m) => m[1]!);
}

describe('docs', () => {
  it('troubleshooting.md has a cause → fix row for every error code in src/errors.ts', () => {
    const codes = errorCodes();
    expect(codes.length).toBeGreaterThanOrEqual(14);
    const rows = new Map<string, string[]>();
    for (const line of doc('troubleshooting.md').split('\n')) {
      const m = /^\| `(E_[A-Z0-9_]+)` \|(.*)\|$/.exec(line);
      if (m)
        rows.set(
          m[1]!,
          m[2]!.split(' | ').map((c) => c.trim()),
        );
    }
    const missing = codes.filter((c) => !rows.has(c));
    expect(missing, 'error codes without a row in docs/troubleshooting.md').toEqual([]);
    for (const code of codes) {
      const [exit, cause, fix] = rows.get(code)!;
      expect(exit, `${code} exit`).not.toBe('');
      expect(cause!.length, `${code} cause`).toBeGreaterThan(20);
      expect(fix!.length, `${code} fix`).toBeGreaterThan(10);
    }
  });

  it('configuration.md documents every config field and every ROTATING_S3_* variable the code reads', () => {
    const text = doc('configuration.md');
    for (const field of Object.keys(configFileSchema.entries).filter((k) => k !== '$schema')) expect(text, field).toContain(`| \`${field}\` |`);
    const variables = new Set<string>();
    for (const file of sourceFiles(join(CORE, 'src'))) for (const m of readFileSync(file, 'utf8').matchAll(/ROTATING_S3_[A-Z_]+[A-Z]/g)) variables.add(m[0]);
    expect(variables.size).toBeGreaterThanOrEqual(10);
    for (const v of variables) expect(text, v).toContain(v);
  });

  it('the validation table of configuration.md lists exactly the variables config/env.ts validates', () => {
    const text = doc('configuration.md');
    const table = /## Environment variables and their validation([\s\S]*?)\n## /.exec(text)?.[1] ?? '';
    const rows = [...table.matchAll(/^\| (`[^|]+`) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((n) => n[1]!));
    const validated = [...Object.keys(FIELD_VARIABLES), ...Object.keys(PROCESS_VARIABLES), ...ENDPOINT_VARIABLES];
    // The test-only crash hook is listed as "not validated".
    expect(rows.filter((r) => r !== 'ROTATING_S3_TEST_CRASH_AT').sort()).toEqual(validated.sort());
  });

  it('monitoring.md lists every metric of the metrics file', () => {
    const text = doc('monitoring.md');
    for (const d of METRICS) expect(text, d.name).toContain(`\`rotating_s3_${d.name}`);
  });

  it('production.md carries a valid IAM policy JSON (applied by ops-doctor.spec.ts)', () => {
    const json = /<!-- iam-policy:writer -->\s*```json\n([\s\S]*?)\n```/.exec(doc('production.md'))?.[1];
    const policy = JSON.parse(json!) as { Statement: Array<{ Action: string | string[] }> };
    const actions = policy.Statement.flatMap((s) => ([] as string[]).concat(s.Action)).sort();
    expect(actions).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
  });
});
