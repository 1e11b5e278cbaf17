/**
 * The bundled CLI (dist/bundle/, what every bin loads) stopped by a signal: proper-lockfile's exit hook
 * must still remove the stage lock, or the next call would wait for it to go stale.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { BIN, createTestStage, payload, writePayload } from './support.js';

describe('CLI stopped by a signal', () => {
  it('releases the stage lock when the process is stopped by SIGTERM while holding it', async () => {
    // A rotation against an S3 endpoint that accepts connections and never answers keeps `log` inside
    // the lock; SIGTERM then must leave no lock behind (signal-exit's handler).
    const connections = new Set<Socket>();
    const blackHole = createServer((socket) => connections.add(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`;
    try {
      const stage = await createTestStage({ fetchLimit: 1 });
      const file = writePayload(stage, 'p.json', payload(1, 1));
      const lock = join(stage.config.localDir, 'merge.lock');
      const env = { PATH: process.env['PATH'] ?? '', ...stage.env, AWS_ENDPOINT_URL_S3: endpoint };
      const child = spawn(process.execPath, [BIN, 'log', '--config', stage.configFile, '--payload-file', file], { env, stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      await vi.waitFor(() => expect(connections.size).toBeGreaterThan(0), { timeout: 30_000, interval: 50 });
      expect(existsSync(lock), 'lock held during the rotation').toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe('SIGTERM');
      expect(existsSync(lock), 'lock left after SIGTERM').toBe(false);
    } finally {
      for (const socket of connections) socket.destroy();
      blackHole.close();
    }
  });
});
