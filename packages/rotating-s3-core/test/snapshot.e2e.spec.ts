/**
 * The CLI's V8 start-up snapshot (dist/snapshot/, built by scripts/bundle-cli.mjs): the build leaves one
 * for this Node, the delegate picks it only for the Node that built it, and a script started from it
 * behaves like the bin — stage config, rotation through the AWS SDK loaded at run time, refusals, exit
 * codes — with its own environment and its own randomness (nothing frozen at build time).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { BIN, createTestStage, payload, runCli, writePayload } from './support.js';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const blob = join(dist, 'snapshot', 'cli.blob');
// The built module, as the stage packages use it (from src/ it would look for src/snapshot/).
const { startupSnapshotArgs } = (await import(join(dist, 'delegate', 'snapshot.js'))) as typeof import('../src/delegate/snapshot.js');
const thisNode = { node: process.version, execPath: process.execPath, arch: process.arch, platform: process.platform };

describe('start-up snapshot', () => {
  it('is built for this Node and used only by the Node that built it', () => {
    expect(existsSync(blob)).toBe(true);
    expect(startupSnapshotArgs({}, thisNode)).toEqual(['--snapshot-blob', blob]);
    expect(startupSnapshotArgs({}, { ...thisNode, node: 'v20.0.0' })).toEqual([]);
    expect(startupSnapshotArgs({}, { ...thisNode, execPath: '/opt/other/node' })).toEqual([]);
    expect(startupSnapshotArgs({ ROTATING_S3_SNAPSHOT: 'off' }, thisNode)).toEqual([]);
  });

  it('starts a script that logs, rotates through S3 and refuses bad input like the bin', async () => {
    const stage = await createTestStage({ fetchLimit: 2 });
    const file = writePayload(stage, 'p.json', payload(1, 3));
    const nodeArgs = ['--snapshot-blob', blob];
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await runCli(['log', '--config', stage.configFile, '--payload-file', file], { env: stage.env, nodeArgs }));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(results.map((r) => [r.json!['fetch_number'], r.json!['rotated']])).toEqual([[1, false], [2, true], [3, false], [4, true]]);
    const day = await stage.readDaily(results[0]!.json!['date']);
    expect(day!.daily_metadata).toMatchObject({ total_uploads_today: 2, total_records_today: 12 });
    // Fetch ids draw fresh randomness in every process.
    const suffixes = results.map((r) => String(r.json!['fetch_id']).split('-').at(-1));
    expect(new Set(suffixes).size).toBe(4);

    const bad = writePayload(stage, 'bad.json', '{"matches": [');
    const refused = await runCli(['log', '--config', stage.configFile, '--payload-file', bad], { env: stage.env, nodeArgs });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^rotating-s3: error E_PAYLOAD: /);
  });

  it('reads its environment and working directory at run time, not at build time', async () => {
    const stage = await createTestStage({ fetchLimit: 5 });
    const file = writePayload(stage, 'p.json', payload(1, 1));
    const nodeArgs = ['--snapshot-blob', blob];
    const killed = await runCli(['log', '--config', stage.configFile, '--payload-file', file], { env: { ...stage.env, ROTATING_S3_TEST_CRASH_AT: 'log:after-append' }, nodeArgs });
    expect(killed.signal).toBe('SIGKILL');
    const moved = await runCli(['log', '--config', stage.configFile, '--payload-file', file], { env: { ...stage.env, ROTATING_S3_FETCH_LIMIT: '2' }, nodeArgs });
    expect(moved.json).toMatchObject({ fetch_number: 2, rotated: true });
    // Relative paths resolve against the caller's working directory, not the build's.
    const relative = await runCli(['log', '--config', basename(stage.configFile), '--payload-file', basename(file)], { env: stage.env, nodeArgs, cwd: dirname(stage.configFile) });
    expect(relative.code, relative.stderr).toBe(0);
    expect(relative.json).toMatchObject({ fetch_number: 3 });
  });

  it('releases the stage lock when the process is stopped by SIGTERM while holding it, from the bundle and the snapshot', async () => {
    // A rotation against an S3 endpoint that accepts connections and never answers keeps `log` inside
    // the lock; SIGTERM then must leave no lock behind (signal-exit's handler), or the next call would
    // wait for it to go stale.
    const connections = new Set<Socket>();
    const blackHole = createServer((socket) => connections.add(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`;
    try {
      for (const nodeArgs of [[], ['--snapshot-blob', blob]]) {
        const stage = await createTestStage({ fetchLimit: 1 });
        const file = writePayload(stage, 'p.json', payload(1, 1));
        const lock = join(stage.config.localDir, 'merge.lock');
        const env = { PATH: process.env['PATH'] ?? '', ...stage.env, AWS_ENDPOINT_URL_S3: endpoint };
        const child = spawn(process.execPath, [...nodeArgs, BIN, 'log', '--config', stage.configFile, '--payload-file', file], { env, stdio: 'ignore' });
        const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
        const before = connections.size;
        await vi.waitFor(() => expect(connections.size).toBeGreaterThan(before), { timeout: 30_000, interval: 50 });
        expect(existsSync(lock), `lock held during the rotation (${nodeArgs.join(' ') || 'bundle'})`).toBe(true);
        child.kill('SIGTERM');
        expect(await exited).toBe('SIGTERM');
        expect(existsSync(lock), `lock left after SIGTERM (${nodeArgs.join(' ') || 'bundle'})`).toBe(false);
      }
    } finally {
      for (const socket of connections) socket.destroy();
      blackHole.close();
    }
  });
});
