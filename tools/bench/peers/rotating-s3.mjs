// rotating-s3 in-process: fetchLimit 25, fsync per fetch; `recover` flushes what a killed run left locally.
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { createStageLogger } from '@rotating-s3/core';
import { N, ack, bucket, dir, fetchPayload, mode, s3Config } from './common.mjs';

const logger = createStageLogger(
  {
    stage: 'bench',
    bucket,
    prefix: '',
    localDir: join(dir, 'local'),
    fetchLimit: 25,
    timezone: 'UTC',
    recordsPath: '/matches',
    recordIdField: 'match_id',
    forcePathStyle: true,
  },
  { s3Client: new S3Client(s3Config), opsLog: { event() {} } },
);
if (mode === 'recover') {
  await logger.flush();
} else {
  for (let i = 0; mode === 'durability' || i < N; i++) {
    await logger.logFetch(fetchPayload(i), { fetchId: `f-${i}` });
    ack(i);
  }
  await logger.flush();
}
await logger.close();
