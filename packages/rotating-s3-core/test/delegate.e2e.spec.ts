/**
 * The delegate a main pipeline uses to hand a payload to the stage's script: a private temp file (or
 * stdin), never the command line, removed in every outcome; failures come back typed.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DelegateError, createDelegate, runWithPayloadFile } from '../src/index.js';
import { BIN, createTestStage } from './support.js';

const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith('rotating-s3-payload-'));

describe('delegate to the stage script', () => {
  it('logs a 200 MB payload through a temp file where the same JSON as an argument fails with E2BIG', async () => {
    const stage = await createTestStage({ fetchLimit: 5 });
    const payload = JSON.stringify({ matches: Array.from({ length: 1_000_000 }, (_, i) => ({ match_id: `m${i}`, text: 'y'.repeat(180) })) });
    expect(payload.length).toBeGreaterThan(200_000_000);

    const asArgument = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      try {
        const child = spawn(process.execPath, [BIN, 'log', '--config', stage.configFile, '--payload', payload]);
        child.on('error', resolve);
        child.on('close', () => resolve(undefined));
      } catch (error) {
        resolve(error as NodeJS.ErrnoException); // Node refuses it synchronously
      }
    });
    expect(asArgument?.code).toBe('E2BIG');

    const before = leftovers();
    const log = createDelegate({ script: BIN, args: ['--config', stage.configFile] });
    const result = await log(payload, { env: { ...process.env, ...stage.env } });
    expect(result).toMatchObject({ fetch_number: 1, records: 1_000_000, pending: 1 });
    expect(leftovers()).toEqual(before);
  }, 300_000);

  it('sends the payload on standard input in stdin mode', async () => {
    const stage = await createTestStage();
    const log = createDelegate({ script: BIN, args: ['--config', stage.configFile] });
    const result = await log({ matches: [{ match_id: 'a' }, { match_id: 'b' }] }, { stdin: true, fetchId: 'via-stdin', env: { ...process.env, ...stage.env } });
    expect(result).toMatchObject({ fetch_id: 'via-stdin', records: 2 });
  });

  it("throws a DelegateError with the script's code and removes the temp file when the script refuses the payload", async () => {
    const stage = await createTestStage();
    const before = leftovers();
    const log = createDelegate({ script: BIN, args: ['--config', stage.configFile] });
    const error = await log('"not an object"', { env: { ...process.env, ...stage.env } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DelegateError);
    expect(error).toMatchObject({ scriptCode: 'E_PAYLOAD', scriptExitCode: 2, exitCode: 2 });
    expect(leftovers()).toEqual(before);
  });

  it('runs any command with a payload file, for a pipeline triggering its next stage', async () => {
    const run = await runWithPayloadFile(
      process.execPath,
      [
        '-e',
        'const fs=require("fs");const i=process.argv.indexOf("--payload-file");const st=fs.statSync(process.argv[i+1]);process.stdout.write((st.mode & 0o777).toString(8)+" "+fs.readFileSync(process.argv[i+1],"utf8"))',
        '--',
      ],
      { next: 'stage' },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('600 {"next":"stage"}');
  });
});
