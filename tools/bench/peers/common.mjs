/** Shared by the peer scripts: the workload (fetch `f-<i>` of ~10 KB) and the environment. */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
export const mode = process.argv[2];
export const N = Number(process.env.BENCH_N ?? 10000);
export const bucket = process.env.BENCH_BUCKET;
export const endpoint = process.env.BENCH_ENDPOINT;
export const dir = process.env.BENCH_DIR;
export const s3Config = {
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
};
const pad = 'x'.repeat(70);
export function fetchPayload(i) {
  return { id: `f-${i}`, matches: Array.from({ length: 100 }, (_, k) => ({ match_id: `m${i}-${k}`, v: pad })) };
}
/** An acknowledgement the parent counts: the logger said this fetch is written. */
export const ack = (i) => process.stdout.write(`ack f-${i}\n`);
