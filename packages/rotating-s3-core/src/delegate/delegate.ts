/**
 * The delegate a main pipeline uses when the stage's logging runs as its external script
 * (`<stage>_rotating_s3 log`): the payload travels in a private temp file (or on stdin), the script's
 * JSON line comes back parsed, and a failure becomes a DelegateError with the script's code and message.
 */
import { spawn } from 'node:child_process';
import { RotatingS3Error } from '../errors.js';
import type { LogResult } from '../logger/types.js';
import { runWithPayloadFile, type PayloadRunOptions } from './payload-file.js';
import { parseInstant } from '../time/clock.js';
import { systemTimers, type TimerHandle, type Timers } from '../time/timers.js';

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
  /** Path of the stage's script: a JS file is run with this Node, anything else as an executable. */
  script: string;
  /** Extra arguments before `log` options, e.g. `['--config', file]`. */
  args?: string[];
  /**
   * Timers for rotation by age: when a `log` reports `age_rotation` (the stage has `maxPendingAge` and
   * fetches are pending), one timer runs `flush --if-older-than <maxPendingAge>` through the script when
   * they are due, so a quiet pipeline's fetches do not wait for its next `log`. Default: unref'd system timers.
   */
  timers?: Timers;
}

export interface DelegateCallOptions extends PayloadRunOptions {
  fetchId?: string;
  /** `--now`: fixes the script's clock (simulation and tests). */
  now?: string;
}

export interface Delegate {
  (payload: unknown, options?: DelegateCallOptions): Promise<LogResult>;
  /** Cancels the pending age-rotation timer (it is unref'd: it never keeps the process alive) and waits for a running age flush. */
  close(): Promise<void>;
}

/** Creates a function that logs one payload through the stage's script and returns its result. */
export function createDelegate(options: DelegateOptions): Delegate {
  const isJs = /\.(c|m)?js$/.test(options.script);
  const command = isJs ? process.execPath : options.script;
  const timers = options.timers ?? systemTimers;
  let ageTimer: TimerHandle | undefined;
  let ageFlush: Promise<void> = Promise.resolve();
  const scriptArgs = (command: string) => [...(isJs ? [options.script] : []), command, ...(options.args ?? [])];

  /** After each log: one timer for the moment the pending fetches are due by age (the script re-checks). */
  const armAgeTimer = (result: LogResult, call: DelegateCallOptions) => {
    ageTimer?.cancel();
    ageTimer = undefined;
    if (!result.age_rotation) return;
    const due = result.age_rotation.due_in_ms;
    // Under a fixed clock (`now`, simulation) the flush runs at the simulated instant it becomes due.
    const now = call.now === undefined ? [] : ['--now', parseInstant(call.now).plusMillis(due).toString()];
    const args = [...scriptArgs('flush'), '--if-older-than', result.age_rotation.max_pending_age, ...now];
    ageTimer = timers.set(() => {
      ageTimer = undefined;
      // A failed flush leaves the fetches pending, and the next log retries.
      ageFlush = new Promise((resolve) => {
        const child = spawn(command, args, { env: call.env ?? process.env, ...(call.cwd ? { cwd: call.cwd } : {}), stdio: 'ignore' });
        child.on('error', () => resolve());
        child.on('close', () => resolve());
        child.unref();
      });
    }, due);
  };

  const delegate = async (payload: unknown, call: DelegateCallOptions = {}): Promise<LogResult> => {
    const args = scriptArgs('log');
    if (call.fetchId !== undefined) args.push('--fetch-id', call.fetchId);
    if (call.now !== undefined) args.push('--now', call.now);
    const run = await runWithPayloadFile(command, args, payload, call);
    if (run.code !== 0) {
      const line = run.stderr.trim().split('\n').at(-1) ?? '';
      const scriptCode = /error (E_[A-Z0-9_]+):/.exec(line)?.[1];
      throw new DelegateError(`${options.script} log failed (exit ${run.code ?? run.signal}): ${line || 'no message'}`, {
        scriptCode,
        exitCode: run.code,
        stderr: run.stderr,
      });
    }
    let result: LogResult;
    try {
      result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as LogResult;
    } catch (cause) {
      throw new DelegateError(`${options.script} log printed no JSON result: ${JSON.stringify(run.stdout.slice(0, 200))}`, {
        scriptCode: undefined,
        exitCode: run.code,
        stderr: run.stderr,
      });
    }
    armAgeTimer(result, call);
    return result;
  };
  return Object.assign(delegate, {
    close() {
      ageTimer?.cancel();
      ageTimer = undefined;
      return ageFlush;
    },
  });
}
