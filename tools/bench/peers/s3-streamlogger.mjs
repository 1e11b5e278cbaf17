// s3-streamlogger with its defaults (upload every 20 s or 10 KB of unwritten data, new object every 200 KB).
import { S3StreamLogger } from 's3-streamlogger';
import { N, ack, bucket, fetchPayload, mode, s3Config } from './common.mjs';

const stream = new S3StreamLogger({ bucket, folder: 'streamlogger', config: { ...s3Config } });
// Upload failures surface as 'error' events; unhandled they would end the process. Count on, as a user would.
let failures = 0;
stream.on('error', () => failures++);
process.on('exit', () => failures && process.stderr.write(`s3-streamlogger: ${failures} upload errors\n`));
const write = (i) => new Promise((resolve) => stream.write(`${JSON.stringify(fetchPayload(i))}\n`, resolve));
for (let i = 0; mode === 'durability' || i < N; i++) {
  await write(i);
  ack(i);
}
await new Promise((resolve) => stream.flushFile(resolve));
