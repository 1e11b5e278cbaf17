// winston + winston-s3-transport with its defaults (buffered streams uploaded through lib-storage).
import winston from 'winston';
import winstonS3 from 'winston-s3-transport'; // CommonJS: no named ESM exports

const { S3StreamTransport } = winstonS3;
import { N, ack, bucket, fetchPayload, mode, s3Config } from './common.mjs';

let seq = 0;
const transport = new S3StreamTransport({
  s3ClientConfig: s3Config,
  s3TransportConfig: { bucket, generateGroup: () => 'bench', generateBucketPath: (group) => `/logs/${group}/${Date.now()}-${seq++}.log`, gzip: false },
});
const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
for (let i = 0; mode === 'durability' || i < N; i++) {
  logger.info(fetchPayload(i));
  ack(i);
  if (i % 100 === 0) await new Promise((r) => setImmediate(r));
}
await transport.close();
