/**
 * A payload's JSON text survives exactly, through the real CLI: `log` → the local bookended file (either
 * payload layout) → the S3 daily object (raw bytes) → a later rewrite of that object → `consume` output,
 * with `status` and the repair after a lost state file on the way. Numbers as written (beyond double
 * precision, 1e400, -0, 1.0), string escapes (\u00e9) and key order; only whitespace may change.
 * Also: the depth limit at `log`, deep payloads after it, and the dead-letter file for a fetch that can
 * never be uploaded.
 */
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObjectText } from '@rotating-s3/test-harness';
import { formatBlock } from '../src/index.js';
import { createTestStage, runCli, writePayload, type RunResult, type TestStage } from './support.js';

const NOW = '2026-11-28T15:00:00-05:00';
const DATE = '2026-11-28';

/** Records whose numbers and escapes JSON.parse + JSON.stringify would change. */
const RECORD_A = '{"match_id":9007199254740993,"score":12345678901234567890,"ratio":1e400,"zero":-0,"one":1.0,"name":"Jos\\u00e9 é","z_first":1,"a_last":2}';
const RECORD_B = '{"match_id":9007199254740992,"score":1,"ratio":1e-400,"zero":0,"one":1,"name":"plain","z_first":1,"a_last":2}';
const PAYLOAD = `{ "matches" : [ ${RECORD_A} ,\n ${RECORD_B} ], "note": "\\u2603" }`;
const PAYLOAD_COMPACT = `{"matches":[${RECORD_A},${RECORD_B}],"note":"\\u2603"}`;

function cli(stage: TestStage, args: string[]): Promise<RunResult> {
  return runCli([...args, '--config', stage.configFile, '--now', NOW], { env: stage.env });
}

function consume(stage: TestStage, consumer: string): Promise<RunResult> {
  return cli(stage, ['consume', '--consumer', consumer, '--state-dir', join(stage.dir, 'state')]);
}

/** The `"record":…` text of each consume line, as printed (never parsed). */
function printedRecords(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.slice(l.indexOf(',"record":') + ',"record":'.length, -1));
}

function localLog(stage: TestStage): string {
  const path = join(stage.config.localDir, `${stage.config.stage}_fetches.log`);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

async function rawDaily(stage: TestStage): Promise<string> {
  return (await readObjectText(stage.bucket, `${stage.config.prefix}/${stage.config.stage}_json_log_${DATE}.json`)) ?? '';
}

describe('payload text kept exactly', () => {
  for (const layout of ['pretty', 'compact'] as const) {
    it(`keeps big integers, 1e400, -0, 1.0 and escapes byte for byte through log, the ${layout} local file, S3, consume, status and repair`, async () => {
      // pretty is the default layout: not setting it also checks the default.
      const stage = await createTestStage({ fetchLimit: 10, ...(layout === 'compact' ? { payloadLayout: layout } : {}) });
      const logged = await cli(stage, ['log', '--payload-file', writePayload(stage, 'p.json', PAYLOAD)]);
      expect(logged.code, logged.stderr).toBe(0);
      expect(logged.json).toMatchObject({ records: 2, pending: 1 });

      const local = localLog(stage);
      if (layout === 'compact') {
        expect(local.split('\n')[1]).toBe(PAYLOAD_COMPACT);
      } else {
        expect(local).toContain(
          '\n      "match_id": 9007199254740993,\n      "score": 12345678901234567890,\n      "ratio": 1e400,\n      "zero": -0,\n      "one": 1.0,\n      "name": "Jos\\u00e9 é",\n',
        );
        expect(local).toContain('\n  "note": "\\u2603"\n}\n=== FETCH END');
      }

      // Repair: the state file is lost (a crash); the next command rebuilds it from the log, either layout.
      rmSync(join(stage.config.localDir, `${stage.config.stage}_state.json`));
      const status = await cli(stage, ['status', '--json', '--local']);
      expect(status.code, status.stderr).toBe(0);
      const second = await cli(stage, ['log', '--payload-file', writePayload(stage, 'q.json', '{"matches":[{"match_id":"plain-1"}]}')]);
      expect(second.json).toMatchObject({ fetch_number: 2, pending: 2 });

      const before = await consume(stage, 'local-reader');
      expect(before.code, before.stderr).toBe(0);
      expect(printedRecords(before.stdout)).toEqual([RECORD_A, RECORD_B, '{"match_id":"plain-1"}']);
      expect(before.stdout).toContain('"record_id":"9007199254740993"');
      expect(before.stdout).toContain('"record_id":"9007199254740992"');

      const flushed = await cli(stage, ['flush']);
      expect(flushed.json, flushed.stderr).toMatchObject({ uploaded_fetches: 2, pending: 0 });
      expect(await rawDaily(stage)).toContain(`"records":2,"data":${PAYLOAD_COMPACT}}`);

      const after = await consume(stage, 's3-reader');
      expect(after.code, after.stderr).toBe(0);
      expect(printedRecords(after.stdout)).toEqual([RECORD_A, RECORD_B, '{"match_id":"plain-1"}']);
      expect(after.stdout).not.toContain('"source":"local"');
      const status2 = await cli(stage, ['status', '--json']);
      expect(status2.code, status2.stderr).toBe(0);
    }, 120_000);
  }

  it("keeps an earlier fetch's numbers when a later upload rewrites the daily object", async () => {
    const stage = await createTestStage({ fetchLimit: 1 });
    await cli(stage, ['log', '--payload-file', writePayload(stage, 'p.json', PAYLOAD)]);
    for (let n = 2; n <= 3; n++) {
      const r = await cli(stage, ['log', '--payload-file', writePayload(stage, `p${n}.json`, `{"matches":[{"match_id":"later-${n}","v":0.1}]}`)]);
      expect(r.json, r.stderr).toMatchObject({ rotated: true, pending: 0 });
    }
    const raw = await rawDaily(stage);
    expect(raw).toContain(`"data":${PAYLOAD_COMPACT}}`);
    expect(raw).toContain('"data":{"matches":[{"match_id":"later-3","v":0.1}]}}');
    expect(JSON.parse(raw).daily_metadata).toMatchObject({ total_uploads_today: 3, total_fetches_today: 3 });
  });
});

describe('payload depth', () => {
  const nested = (depth: number, inner = '1e400'): string => `{"matches":[${'['.repeat(depth - 2)}${inner}${']'.repeat(depth - 2)}]}`;

  it('refuses a payload nested deeper than 512 with E_PAYLOAD, exit 2, and writes nothing', async () => {
    const stage = await createTestStage();
    for (const depth of [513, 200_000]) {
      const r = await cli(stage, ['log', '--payload-file', writePayload(stage, `deep${depth}.json`, nested(depth))]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^rotating-s3: error E_PAYLOAD: payload from .* is nested deeper than 512 arrays\/objects/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(localLog(stage)).toBe('');
    }
  });

  it('uploads and consumes a payload nested exactly as deep as allowed, exactly', async () => {
    const stage = await createTestStage({ fetchLimit: 1, recordIdField: undefined });
    const text = nested(512);
    const r = await cli(stage, ['log', '--payload-file', writePayload(stage, 'deep.json', text)]);
    expect(r.json, r.stderr).toMatchObject({ rotated: true, pending: 0, records: 1 });
    expect(await rawDaily(stage)).toContain(`"data":${text}}`);
    const consumed = await consume(stage, 'deep');
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(printedRecords(consumed.stdout)).toEqual([text.slice('{"matches":['.length, -2)]);
  });

  it('sets aside a pending fetch that can never be uploaded, in the dead-letter file, and uploads the others', async () => {
    const stage = await createTestStage({ fetchLimit: 5 });
    // A fetch written by a version that did not refuse deep payloads, pending in the local file.
    const deep = nested(5_000, '0');
    const log = join(stage.config.localDir, `${stage.config.stage}_fetches.log`);
    const first = await cli(stage, ['log', '--payload-file', writePayload(stage, 'a.json', '{"matches":[{"match_id":"ok-1"}]}')]);
    expect(first.code, first.stderr).toBe(0);
    appendFileSync(log, formatBlock({ fetchId: 'old-deep', timestamp: '2026-11-28T15:00:00.000-05:00', fetchNumber: 2, records: 1 }, deep));
    await cli(stage, ['log', '--payload-file', writePayload(stage, 'b.json', '{"matches":[{"match_id":"ok-3"}]}')]);

    const flushed = await cli(stage, ['flush']);
    expect(flushed.code, flushed.stderr).toBe(0);
    expect(flushed.json).toMatchObject({ uploaded_fetches: 2, pending: 0 });
    const raw = await rawDaily(stage);
    expect(raw).toContain('ok-1');
    expect(raw).toContain('ok-3');
    expect(raw).not.toContain('old-deep');

    const deadLetter = readFileSync(join(stage.config.localDir, `${stage.config.stage}_dead_letter.log`), 'utf8');
    expect(deadLetter).toMatch(/^=== DEAD LETTER .* \| fetch old-deep \| payload nested deeper than 512 arrays\/objects ===\n=== FETCH START: old-deep /);
    expect(deadLetter).toContain(deep);
    const status = await cli(stage, ['status', '--local']);
    expect(status.stdout).toMatch(/dead letter/);
    const metrics = await cli(stage, ['status', '--json', '--local']);
    expect(metrics.json?.['dead_letter_bytes']).toBeGreaterThan(deep.length);
    expect(metrics.json?.['metrics']?.['dead_lettered_fetches_total']).toBe(1);
  });
});
