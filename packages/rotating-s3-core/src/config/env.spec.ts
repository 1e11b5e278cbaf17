import { describe, expect, it } from 'vitest';
import { unknownVariables } from './env.js';

describe('unknownVariables', () => {
  it.each([
    [{ ROTATING_S3_BUKET: 'x' }, [{ name: 'ROTATING_S3_BUKET', suggestion: 'ROTATING_S3_BUCKET' }]],
    [{ ROTATING_S3_FETCHLIMIT: '3' }, [{ name: 'ROTATING_S3_FETCHLIMIT', suggestion: 'ROTATING_S3_FETCH_LIMIT' }]],
    [{ ROTATING_S3_SOMETHING_ELSE_ENTIRELY: '1' }, [{ name: 'ROTATING_S3_SOMETHING_ELSE_ENTIRELY', suggestion: undefined }]],
    [{ ROTATING_S3_BUCKET: 'b', ROTATING_S3_PREFIX: '', ROTATING_S3_LOG_LEVEL: 'info' }, []],
    [{ ROTATING_S3_TEST_PYTHON: 'python3', ROTATING_S3_BENCH_CHILD: '1', ROTATING_S3_PY_TEST_BIN: 'x', HOME: '/root' }, []],
  ])('%j → %j', (env, expected) => {
    expect(unknownVariables(env)).toEqual(expected);
  });
});
