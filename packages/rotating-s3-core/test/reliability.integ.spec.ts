/**
 * Reliability suite: faults injected into S3 (through a loopback proxy in front of the real server), the
 * disk, and concurrency (several processes on one host, two hosts on one daily object). After every
 * scenario one oracle checks, from S3 after a final clean flush: every fetch that was acknowledged is in
 * S3 exactly once, the numbers of each writer's day are gap-free, and the daily totals equal the sums.
 * A summary table (scenarios, faults, fetches, lost, duplicated) is printed at the end. The crash matrix
 * (kill -9 at every step) is crash.e2e.spec.ts; the long S3-fault run is s3-faults.soak.spec.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { getTestS3 } from '@rotating-s3/test-harness';
import { describe, expect, it } from 'vitest';
import { LocalIoError, createStageLogger, nodeDurableFs, type DurableFs } from '../src/index.js';
import { silentOpsLog } from '../src/logger/ops-log.js';
import { startFaultProxy } from './fault-proxy.js';
import { oracle } from './reliability-oracle.js';
import { BIN, SettableClock, createTestStage, payload, runCli, writePayload, type TestStage } from './support.js';

/**
 * Hosts (each its own local directory, one in-process logger) logging `perHost` fetches each into the
 * stage's one daily object at once, on one settable clock; returns what was acknowledged and the
 * conditional-write conflicts the uploads survived.
 */
async function logFromHosts(stage: TestStage, names: string[], perHost: number, payloadOf: (host: number, i: number) => string) {
  const hosts = names.map((h) => ({ ...stage.config, localDir: join(stage.dir, `host-${h}`) }));
  const clock = new SettableClock('2026-11-28T15:00:00Z');
  let conflicts = 0;
  const acked: Array<{ id: string; number: number; date: string; writer: string }> = [];
  await Promise.all(
    hosts.map(async (config, h) => {
      const logger = createStageLogger(config, {
        clock,
        s3Client: stage.client,
        opsLog: { event: (_l, event, fields) => void (event === 'uploaded' && (conflicts += Number(fields?.['conflicts'] ?? 0))) },
      });
      for (let i = 0; i < perHost; i++) {
        const r = await logger.logFetch(payloadOf(h, i), { fetchId: `host${h}-${i}` });
        acked.push({ id: r.fetch_id, number: r.fetch_number, date: r.date, writer: `host${h}` });
      }
      await logger.close();
    }),
  );
  return { hosts, conflicts, acked };
}

describe('reliability', () => {
  it('keeps two hosts rotating into one daily object at once exact, with gap-free upload sequences', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const { hosts, conflicts, acked } = await logFromHosts(stage, ['a', 'b'], 30, (_h, i) => payload(i));
    await oracle(stage, 'two hosts, one daily object (conditional writes)', conflicts, acked, hosts);
  }, 120_000);

  it('keeps three hosts exact while their daily object crosses 5 MiB (rewrite meets server-side append)', async () => {
    const stage = await createTestStage({ fetchLimit: 1 });
    const big = (h: number, i: number) => JSON.stringify({ run: i, matches: [{ match_id: `h${h}-${i}`, pad: 'x'.repeat(350_000) }] });
    const { hosts, conflicts, acked } = await logFromHosts(stage, ['a', 'b', 'c'], 8, big);
    const day = await stage.readDaily('2026-11-28');
    expect(JSON.stringify(day).length).toBeGreaterThan(7 * 1024 * 1024);
    await oracle(stage, 'three hosts across the 5 MiB crossing', conflicts, acked, hosts);
  }, 240_000);

  it('numbers fetches of several processes on one host uniquely and without gaps (lock)', async () => {
    const stage = await createTestStage({ fetchLimit: 5 });
    const file = writePayload(stage, 'p.json', payload(1));
    const perProcess = 6;
    const outputs = await Promise.all(
      [0, 1, 2, 3].map(
        (p) =>
          new Promise<string>((resolve) => {
            // One shell-free child per "process" that logs its fetches one after another.
            const script = `const {execFileSync}=require('node:child_process');let out='';for(let i=0;i<${perProcess};i++){out+=execFileSync(process.execPath,[${JSON.stringify(BIN)},'log','--config',${JSON.stringify(stage.configFile)},'--payload-file',${JSON.stringify(file)},'--fetch-id','p${p}-'+i],{encoding:'utf8'})}process.stdout.write(out)`;
            const child = spawn(process.execPath, ['-e', script], { env: { PATH: process.env['PATH'] ?? '', ...stage.env } });
            let out = '';
            child.stdout.on('data', (d: Buffer) => (out += d));
            child.on('close', () => resolve(out));
          }),
      ),
    );
    const results = outputs.flatMap((o) => o.trim().split('\n')).map((l) => JSON.parse(l) as { fetch_id: string; fetch_number: number; date: string });
    expect(results).toHaveLength(4 * perProcess);
    await oracle(
      stage,
      '4 processes on one host (stage lock)',
      0,
      results.map((r) => ({ id: r.fetch_id, number: r.fetch_number, date: r.date })),
    );
  }, 180_000);

  it('refuses a fetch on a full disk without damaging what was logged, and numbers on without a gap', async () => {
    const stage = await createTestStage({ fetchLimit: 100 });
    let failAppend = false;
    let failCheckpoint = false;
    const faults = { count: 0 };
    const fs: DurableFs = {
      ...nodeDurableFs,
      async append(path, data) {
        if (failAppend) {
          faults.count++;
          // A full disk mid-write: half the block lands, then ENOSPC.
          await nodeDurableFs.append(path, Buffer.from(data).subarray(0, Math.floor(Buffer.byteLength(data) / 2)));
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        }
        return nodeDurableFs.append(path, data);
      },
      async writeAtomic(path, data) {
        if (failCheckpoint && path.endsWith('_state.json')) {
          faults.count++;
          throw Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' });
        }
        return nodeDurableFs.writeAtomic(path, data);
      },
    };
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const logger = createStageLogger(stage.config, { clock, fs, s3Client: stage.client, opsLog: silentOpsLog, holdLockMs: 0 });
    const acked = [];
    for (let i = 0; i < 3; i++) acked.push(await logger.logFetch(payload(i), { fetchId: `disk-${i}` }));
    const logPath = join(stage.config.localDir, 'merge_fetches.log');
    const before = readFileSync(logPath);

    failAppend = true;
    const refused = await logger.logFetch(payload(9), { fetchId: 'disk-refused' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LocalIoError);
    expect((refused as Error).message).toMatch(/NOT logged.*ENOSPC.*free disk space/);
    failAppend = false;
    // The partial block is cut off at once: the log is exactly what was logged (a full disk gets its space back).
    expect(readFileSync(logPath).equals(before)).toBe(true);

    failCheckpoint = true; // the block is durable, only the checkpoint fails: still logged
    acked.push(await logger.logFetch(payload(3), { fetchId: 'disk-3' }));
    failCheckpoint = false;
    acked.push(await logger.logFetch(payload(4), { fetchId: 'disk-4' }));
    expect(acked.map((r) => r.fetch_number)).toEqual([1, 2, 3, 4, 5]);
    expect(existsSync(join(stage.config.localDir, 'merge_quarantine.log'))).toBe(false);
    await oracle(
      stage,
      'disk full during append, read-only state write',
      faults.count,
      acked.map((r) => ({ id: r.fetch_id, number: r.fetch_number, date: r.date })),
    );
  });

  it('keeps local files private and secrets out of output and files; treats payloads as data', async () => {
    const stage = await createTestStage({ fetchLimit: 1 });
    const secret = 'sekrit-Key-0123456789abcdefSECRET';
    const env = { ...stage.env, AWS_SECRET_ACCESS_KEY: secret };
    const evil = writePayload(
      stage,
      'evil.json',
      '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}, "matches": [{"match_id": "$(rm -rf /)", "js": "process.exit(3)"}]}',
    );
    const now = ['--now', '2026-11-28T17:00:00Z']; // 2026-11-28 in the stage's zone, never the real date
    const ok = await runCli(['log', '--config', stage.configFile, '--payload-file', evil, '--fetch-id', 'evil-1', ...now], { env });
    const down = await runCli(['log', '--config', stage.configFile, '--payload-file', evil, ...now], {
      env: { ...env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' },
    });
    const bad = await runCli(['doctor', '--config', stage.configFile], { env: { ...env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(down.code).toBe(0);
    for (const r of [ok, down, bad]) expect(r.stdout + r.stderr).not.toContain(secret);
    const dir = stage.config.localDir;
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isFile()) {
        expect(statSync(path).mode & 0o077, `${name} is private`).toBe(0);
        expect(readFileSync(path, 'utf8'), name).not.toContain(secret);
      }
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const day = await stage.readDaily('2026-11-28');
    expect(day!.uploads[0]!.fetch_data[0]!.data).toMatchObject({ matches: [{ match_id: '$(rm -rf /)', js: 'process.exit(3)' }] });

    for (const id of ['../../etc/passwd', '/abs', 'a\nb', 'x'.repeat(129), 'a|b', 'a b']) {
      const r = await runCli(['log', '--config', stage.configFile, '--payload-file', evil, '--fetch-id', id, ...now], { env });
      expect(r.code, id).toBe(2);
      expect(r.stderr).toMatch(/--fetch-id/);
    }
  });

  it('refuses to upload through an endpoint that ignores conditional writes unless the stage is single-writer', async () => {
    const stage = await createTestStage({ fetchLimit: 1 });
    const proxy = await startFaultProxy(getTestS3().endpoint, () => 'ok', 0, ['if-match', 'if-none-match']);
    const client = new S3Client({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const multi = createStageLogger(stage.config, { clock, s3Client: client, opsLog: silentOpsLog, holdLockMs: 0 });
    const refused = await multi.logFetch(payload(1), { fetchId: 'nc-1' });
    expect(refused).toMatchObject({ fetch_number: 1, pending: 1, rotated: false, upload_error: { code: 'E_S3_NO_CONDITIONAL' } });
    expect(refused.upload_error!.message).toMatch(/ROTATING_S3_SINGLE_WRITER=true/);
    expect(await stage.readDaily('2026-11-28')).toBeUndefined();

    const single = createStageLogger(stage.config, { clock, s3Client: client, opsLog: silentOpsLog, holdLockMs: 0, singleWriter: true });
    expect(await single.logFetch(payload(2), { fetchId: 'nc-2' })).toMatchObject({ rotated: true, pending: 0 });
    await proxy.close();
    await oracle(stage, 'endpoint ignoring conditional writes: refused, then single-writer', 0, [
      { id: 'nc-1', number: 1, date: '2026-11-28' },
      { id: 'nc-2', number: 2, date: '2026-11-28' },
    ]);
  });
});
