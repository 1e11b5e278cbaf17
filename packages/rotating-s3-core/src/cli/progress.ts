/**
 * The progress bar of `flush` catching up a backlog, drawn on stderr with cli-progress — only when
 * stderr is a terminal. (`consume` has none: it cannot know how many records are new before it has read
 * them, and its stdout is usually a pipe that a bar would only slow down.) In a pipeline, under cron or in CI
 * (`CI` set) nothing is drawn and the helpers cost nothing: stdout stays reserved for results and stderr
 * for one-line errors. `ROTATING_S3_PROGRESS=0` turns bars off, `=1` forces them on a terminal in CI.
 */
import { createRequire } from 'node:module';
import type { StageLogger } from '../logger/types.js';

export interface Progress {
  /** Sets the number of items done so far. */
  update(done: number): void;
  /** Adds `n` (default 1) items done. */
  increment(n?: number): void;
  /** Changes the total when it becomes known or grows. */
  setTotal(total: number): void;
  /** Draws the final state and releases the terminal line. Safe to call twice. */
  stop(): void;
  /** False for the no-op implementation (not a terminal). */
  readonly active: boolean;
}

export interface ProgressOptions {
  /** Where the bar is drawn. Default: `process.stderr`. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

const NOOP: Progress = { update() {}, increment() {}, setTotal() {}, stop() {}, active: false };

/** Whether a bar would be drawn on `stream`. */
export function progressEnabled(options: ProgressOptions = {}): boolean {
  const env = options.env ?? process.env;
  const stream = options.stream ?? process.stderr;
  if (env['ROTATING_S3_PROGRESS'] === '0') return false;
  if (!stream.isTTY) return false;
  return env['ROTATING_S3_PROGRESS'] === '1' || !env['CI'];
}

/**
 * A progress bar `label [████░░░░] 42% | 420/1000 | ETA: 12s` on stderr, or a no-op when stderr is not a
 * terminal. cli-progress is loaded only when a bar is really drawn.
 */
export function createProgress(total: number, label: string, options: ProgressOptions = {}): Progress {
  if (!progressEnabled(options)) return NOOP;
  const require = createRequire(import.meta.url);
  const cliProgress = require('cli-progress') as typeof import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.replace(/[{}]/g, '')} [{bar}] {percentage}% | {value}/{total} | ETA: {eta_formatted}`,
      stream: (options.stream ?? process.stderr) as NodeJS.WritableStream,
      hideCursor: true,
      etaBuffer: 20,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(0, total), 0);
  let stopped = false;
  return {
    active: true,
    update: (done) => bar.update(done),
    increment: (n = 1) => bar.increment(n),
    setTotal: (t) => bar.setTotal(t),
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

/**
 * Runs a `flush` with a bar counting uploaded fetches when it catches up a backlog (more than
 * `fetchLimit` fetches pending) on a terminal. The engine reports progress per upload (one per local
 * date), so the bar advances by whole dates; a single-date backlog moves once, at the end.
 */
export async function withFlushProgress<T>(logger: StageLogger, run: () => Promise<T>, options: ProgressOptions & { intervalMs?: number } = {}): Promise<T> {
  if (!progressEnabled(options)) return run();
  const before = await logger.status().catch(() => undefined);
  if (!before || before.pending <= before.fetch_limit) return run();
  const total = before.pending;
  const bar = createProgress(total, `flush ${before.stage}: uploading ${total} fetches of ${before.pending_dates.length} date(s)`, options);
  const timer = setInterval(() => {
    void logger.status().then(
      (s) => bar.update(Math.max(0, total - s.pending)),
      () => undefined,
    );
  }, options.intervalMs ?? 250);
  try {
    const result = await run();
    const after = await logger.status().catch(() => undefined);
    bar.update(after ? Math.max(0, total - after.pending) : total);
    return result;
  } finally {
    clearInterval(timer);
    bar.stop();
  }
}
