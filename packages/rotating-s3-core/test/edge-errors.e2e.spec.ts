/**
 * Bad local files and bad arguments at the edges: each gives one coded line naming the file (or value) and
 * a fix — never a stack trace — and secrets in an endpoint URL are never printed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestStage, payload, runCli, writePayload, type TestStage } from './support.js';

const NOW = '2026-12-01T10:00:00Z';

async function log(stage: TestStage, extra: string[] = []) {
  const file = writePayload(stage, 'p.json', payload(1));
  return runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', NOW, ...extra], { env: stage.env });
}

/** One `rotating-s3: error E_…: …` line and nothing that looks like a stack. */
function expectOneCodedLine(stderr: string, code: string, ...mentions: string[]) {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^rotating-s3: error ${code}: `));
  for (const text of mentions) expect(lines[0]).toContain(text);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('one coded line instead of a stack trace', () => {
  it('refuses a null line in the uploaded index on a --fetch-id retry, naming the file, the line and a fix', async () => {
    const stage = await createTestStage();
    mkdirSync(stage.config.localDir, { recursive: true });
    const index = join(stage.config.localDir, 'merge_uploaded_ids.jsonl');
    writeFileSync(index, 'null\n');
    const r = await log(stage, ['--fetch-id', 'retry-1']);
    expect(r.code).toBe(1);
    expectOneCodedLine(r.stderr, 'E_LOCAL_CORRUPT', index, 'line 1', 'delete that line');
  });

  it('refuses an uploaded-index date of 9999-99-99, naming the file and a fix', async () => {
    const stage = await createTestStage();
    mkdirSync(stage.config.localDir, { recursive: true });
    const index = join(stage.config.localDir, 'merge_uploaded_ids.jsonl');
    writeFileSync(index, `${JSON.stringify({ fetch_id: 'x', fetch_number: 1, date: '9999-99-99', timestamp: NOW, records: 1, upload_sequence: 1 })}\n`);
    const r = await log(stage);
    expect(r.code).toBe(1);
    expectOneCodedLine(r.stderr, 'E_LOCAL_CORRUPT', index, 'date: must be a date YYYY-MM-DD');
  });

  it.each([
    ['the local file', 'merge_fetches.log'],
    ['the uploaded index', 'merge_uploaded_ids.jsonl'],
  ])('says when %s is a directory (EISDIR), and how to fix it', async (what, name) => {
    const stage = await createTestStage();
    const path = join(stage.config.localDir, name);
    mkdirSync(path, { recursive: true });
    const r = await log(stage, ['--fetch-id', 'f-1']);
    expect(r.code).toBe(1);
    expectOneCodedLine(r.stderr, 'E_LOCAL_IO', `cannot read ${what} ${path} (EISDIR: it is a directory)`, `move ${path} aside`);
  });

  it('refuses --now outside the years 1970-9999 with exit 2 and writes nothing', async () => {
    const stage = await createTestStage();
    const file = writePayload(stage, 'p.json', payload(1));
    const r = await runCli(['log', '--config', stage.configFile, '--payload-file', file, '--now', '+010000-01-01T00:00:00Z'], { env: stage.env });
    expect(r.code).toBe(2);
    expectOneCodedLine(r.stderr, 'E_USAGE', '--now "+010000-01-01T00:00:00Z" is outside the years 1970-9999');
    expect(r.stdout).toBe('');
  });
});

describe('credentials in an endpoint URL', () => {
  it('doctor masks the userinfo of the endpoint it prints', async () => {
    const stage = await createTestStage();
    const env = { ...stage.env, AWS_ENDPOINT_URL_S3: 'http://user:UrlPassCanary-1234@127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' };
    for (const args of [['doctor'], ['doctor', '--json']]) {
      const r = await runCli([...args, '--config', stage.configFile], { env });
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).not.toContain('UrlPassCanary');
      expect(r.stdout).toContain('http://***@127.0.0.1:9');
    }
  });
});
