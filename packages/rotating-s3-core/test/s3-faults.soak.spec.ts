/**
 * The S3-fault soak: 360 fetches of one writer through a loopback proxy that answers about half of the
 * requests with a fault (500, 503, reset, applied-but-lost, slow past the client's timeout). The oracle
 * (reliability-oracle.ts) then finds every acknowledged fetch in S3 exactly once, numbered without gaps.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { getTestS3 } from '@rotating-s3/test-harness';
import { describe, expect, it } from 'vitest';
import { createStageLogger } from '../src/index.js';
import { silentOpsLog } from '../src/logger/ops-log.js';
import { startFaultProxy, type Fault } from './fault-proxy.js';
import { oracle, prng } from './reliability-oracle.js';
import { SettableClock, createTestStage, payload } from './support.js';

describe('reliability under S3 faults', () => {
  it('loses and doubles nothing through S3 errors, resets, lost responses and timeouts', async () => {
    const stage = await createTestStage({ fetchLimit: 1 });
    const random = prng(42);
    const proxy = await startFaultProxy(
      getTestS3().endpoint,
      () => {
        const r = random();
        const fault: Fault = r < 0.5 ? 'ok' : r < 0.62 ? '500' : r < 0.74 ? '503' : r < 0.86 ? 'reset' : r < 0.98 ? 'lost' : 'slow';
        return fault;
      },
      1_500,
    );
    const client = new S3Client({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 2,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // A request past 700 ms fails as a timeout (the SDK would otherwise only warn and keep waiting).
      requestHandler: { requestTimeout: 700, connectionTimeout: 700, throwOnRequestTimeout: true },
    });
    const clock = new SettableClock('2026-11-28T15:00:00Z');
    const logger = createStageLogger(stage.config, { clock, s3Client: client, opsLog: silentOpsLog });
    const acked = [];
    let uploadErrors = 0;
    for (let i = 0; i < 360; i++) {
      const r = await logger.logFetch(payload(i, 1 + (i % 4)), { fetchId: `s3f-${i}` });
      if (r.upload_error) uploadErrors++;
      acked.push({ id: r.fetch_id, number: r.fetch_number, date: r.date });
    }
    await logger.close();
    await proxy.close();
    expect(uploadErrors).toBeGreaterThan(0); // the faults really reached the logger
    expect(proxy.injected.lost).toBeGreaterThan(0);
    await oracle(stage, 'S3 faults: 500, 503, reset, applied-but-lost, slow', proxy.total(), acked);
    expect(proxy.total()).toBeGreaterThanOrEqual(500);
  }, 240_000);
});
