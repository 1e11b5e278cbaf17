/**
 * The load-and-chaos scenario, reduced to fit the test suite (test/soak/soak.ts; the full W = 1, 2, 4, 8 run
 * is the Nx `soak` target): two writer processes on one daily object, fetchLimit 5, 5% of S3 requests
 * spoiled, writers killed with SIGKILL and restarted with the same fetch ids, a final flush from each host.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itWithCapability } from '@rotating-s3/test-harness';
import { describe, expect } from 'vitest';
import { runSoak, soakTable } from './soak/soak.js';

describe('soak (reduced)', () => {
  itWithCapability(
    'conditional-put',
    'keeps every acknowledged fetch of two killed-and-restarted writers exactly once through S3 faults',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rs3-soak-'));
      try {
        const report = await runSoak({ writers: 2, fetchesPerWriter: 60, kills: 4, seed: 5 }, dir);
        process.stdout.write(`\nsoak (reduced)\n${soakTable([report])}\n`);
        expect(report.violations).toEqual([]);
        expect({ lost: report.lost, duplicated: report.duplicated, acked: report.acked }).toEqual({ lost: 0, duplicated: 0, acked: 120 });
        // The chaos really happened: kills landed and faults were injected (5% of requests, deterministic spacing).
        expect(report.kills).toBeGreaterThanOrEqual(3);
        expect(report.faults).toBe(Math.floor(report.requests / 20));
        expect(report.faults).toBeGreaterThan(0);
        expect(report.uploads).toBeGreaterThanOrEqual(120 / 5);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
