/**
 * The delegate a main pipeline uses when the stage's logging runs as its external script
 * (`<stage>_rotating_s3 log`): the payload travels in a private temp file (or on stdin), the script's
 * JSON line comes back parsed, and a failure becomes a DelegateError with the script's code and message.
 */
import { RotatingS3Error } from '../errors.js';
import type { LogResult } from '../logger/stage-logger.js';
import { runWithPayloadFile, type PayloadRunOptions } from './payload-file.js';
import { startupSnapshotArgs } from './snapshot.js';

/** The stage script failed; `exitCode` 2 means the input was refused and nothing was written. */
export class DelegateError extends RotatingS3Error {
  readonly scriptCode: string | undefined;
  readonly scriptExitCode: number | null;
  readonly stderr: string;
  constructor(message: string, details: { scriptCode: string | undefined; exitCode: number | null; stderr: string }) {
    super('E_DELEGATE', message, { exitCode: details.exitCode === 2 ? 2 : 1 });
    this.scriptCode = details.scriptCode;
    this.scriptExitCode = details.exitCode;
    this.stderr = details.stderr;
  }
}

export interface DelegateOptions {
  /**
   * Path of the stage's script: a JS file is run with this Node (from the start-up snapshot when one was
   * built for it: delegate/snapshot.ts), anything else as an executable.
   */
  script: string;
  /** Extra arguments before `log` options, e.g. `['--config', file]`. */
  args?: string[];
}

export interface DelegateCallOptions extends PayloadRunOptions {
  fetchId?: string;
  /** `--now`: fixes the script's clock (simulation and tests). */
  now?: string;
}

export type Delegate = (payload: unknown, options?: DelegateCallOptions) => Promise<LogResult>;

/** Creates a function that logs one payload through the stage's script and returns its result. */
export function createDelegate(options: DelegateOptions): Delegate {
  const isJs = /\.(c|m)?js$/.test(options.script);
  const command = isJs ? process.execPath : options.script;
  return async (payload, call = {}) => {
    // A JS script runs on this Node, from the CLI's start-up snapshot when one was built for it.
    const args = [...(isJs ? [...startupSnapshotArgs(), options.script] : []), 'log', ...(options.args ?? [])];
    if (call.fetchId !== undefined) args.push('--fetch-id', call.fetchId);
    if (call.now !== undefined) args.push('--now', call.now);
    const run = await runWithPayloadFile(command, args, payload, call);
    if (run.code !== 0) {
      const line = run.stderr.trim().split('\n').at(-1) ?? '';
      const scriptCode = /error (E_[A-Z0-9_]+):/.exec(line)?.[1];
      throw new DelegateError(`${options.script} log failed (exit ${run.code ?? run.signal}): ${line || 'no message'}`, { scriptCode, exitCode: run.code, stderr: run.stderr });
    }
    try {
      return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as LogResult;
    } catch (cause) {
      throw new DelegateError(`${options.script} log printed no JSON result: ${JSON.stringify(run.stdout.slice(0, 200))}`, { scriptCode: undefined, exitCode: run.code, stderr: run.stderr });
    }
  };
}
