import { describe, expect, it } from 'vitest';
import { S3Error } from '../errors.js';
import { formatEventLine } from './ops-log.js';
import { uploadErrorInfo } from './upload-error.js';

const target = { bucket: 'no-such-bucket', key: 'logs/merge/merge_json_log_2026-12-01.json', stage: 'merge', fetches: 1 };

describe('uploadErrorInfo', () => {
  it('names the daily object and the bucket, not the probe object the S3 layer failed on, and says to run doctor', () => {
    const error = new S3Error(
      'E_S3_NO_BUCKET',
      'S3 PutObject (probe) s3://no-such-bucket/logs/merge/merge_json_log_2026-12-01.json.probe-b8cc9fab failed: NoSuchBucket (HTTP 404); create the bucket or fix ROTATING_S3_BUCKET / "bucket" in the stage config',
    );
    const info = uploadErrorInfo(error, target);
    expect(info.code).toBe('E_S3_NO_BUCKET');
    expect(info.message).toBe(
      'upload to daily object logs/merge/merge_json_log_2026-12-01.json in bucket no-such-bucket failed: S3 PutObject answered NoSuchBucket (HTTP 404); ' +
        'create the bucket or fix ROTATING_S3_BUCKET / "bucket" in the stage config, then run `merge_rotating_s3 doctor` to check the connection; ' +
        'the fetch stays pending and the next log or flush retries',
    );
    expect(info.message).not.toMatch(/probe/);
  });

  it('says once that pending fetches are retried', () => {
    const error = new S3Error(
      'E_S3_UNREACHABLE',
      'S3 GetObject s3://b/k failed: ECONNREFUSED; check the endpoint (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) and the network; pending fetches stay local and are retried',
    );
    const { message } = uploadErrorInfo(error, { ...target, fetches: 3 });
    expect(message).toMatch(
      /and the network, then run `merge_rotating_s3 doctor` to check the connection; the 3 fetches stay pending and the next log or flush retries$/,
    );
    expect(message.match(/retr/g)).toHaveLength(1);
  });

  it('keeps a message that is not an S3 request failure, naming the daily object', () => {
    const info = uploadErrorInfo(new Error('boom'), target);
    expect(info).toEqual({
      code: 'E_S3',
      message:
        'upload to daily object logs/merge/merge_json_log_2026-12-01.json in bucket no-such-bucket failed: boom; the fetch stays pending and the next log or flush retries',
    });
  });
});

describe('formatEventLine', () => {
  it('is one line in the CLI error format, with the stage named only when the program is not its bin', () => {
    expect(formatEventLine('merge_rotating_s3', 'error', 'merge', 'upload_failed', { date: '2026-12-01', fetches: 1, code: 'E_S3', message: 'a\nb' })).toBe(
      'merge_rotating_s3: error upload_failed E_S3: a b\n',
    );
    expect(formatEventLine('rotating-s3', 'warn', 'merge', 'repaired', { adopted_blocks: 1, full_rescan: false })).toBe(
      'rotating-s3: warn repaired [merge]: adopted_blocks=1 full_rescan=false\n',
    );
  });
});
