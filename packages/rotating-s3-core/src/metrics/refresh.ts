/**
 * Keeps a stage's metrics file current: called by the CLI after `log`, `flush` and `status` when
 * `--metrics-file` or `ROTATING_S3_METRICS_FILE` is set (library users call it after `logFetch`/`flush`).
 */
import type { Clock } from '@js-joda/core';
import type { StageLogger } from '../logger/types.js';
import { collectStageMetrics, type StageMetrics } from './metrics.js';
import { METRICS_FILE_ENV, writeMetricsFile } from './prometheus.js';

/** The metrics target of a command: the option, else the environment; undefined when neither is set. */
export function metricsTarget(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const target = option ?? env[METRICS_FILE_ENV];
  return target === undefined || target.trim() === '' ? undefined : target;
}

/** Computes the stage's metrics now and replaces its metrics file; resolves to the file and the numbers. */
export async function refreshMetricsFile(target: string, logger: StageLogger, clock: Clock): Promise<{ path: string; metrics: StageMetrics }> {
  const metrics = await collectStageMetrics(logger.config, await logger.status(), clock.instant());
  const path = await writeMetricsFile(target, metrics);
  return { path, metrics };
}

/**
 * `refreshMetricsFile` for the CLI: a metrics file that cannot be written is a warning on stderr, never
 * the failure of the command whose fetch was already logged. Resolves to the file written, if any.
 */
export async function refreshMetricsAfterCommand(target: string, logger: StageLogger, clock: Clock, warn: (line: string) => void): Promise<string | undefined> {
  try {
    return (await refreshMetricsFile(target, logger, clock)).path;
  } catch (error) {
    warn(cannotWrite(target, error));
    return undefined;
  }
}

/** Writes metrics already computed (by `status`), with the same warning on failure. */
export async function writeMetricsAfterCommand(target: string, metrics: StageMetrics, warn: (line: string) => void): Promise<string | undefined> {
  try {
    return await writeMetricsFile(target, metrics);
  } catch (error) {
    warn(cannotWrite(target, error));
    return undefined;
  }
}

function cannotWrite(target: string, error: unknown): string {
  const reason = (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? String(error);
  return `warning: cannot write the metrics file ${target} (${reason}); fix --metrics-file / ${METRICS_FILE_ENV} (a writable file or directory)`;
}
