/**
 * @rotating-s3/stage-monitor — the monitor stage's logging, ready to use.
 * - `createLogger()`: in-process logging with this stage's config (environment overrides apply).
 * - `logViaScript(payload)`: the delegate for a main pipeline that runs the stage's external script;
 *   the payload travels in a private temp file (or stdin), never on the command line.
 * - `runWithPayloadFile(command, args, payload)`: the same temp-file runner, to trigger any next stage.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDelegate, createStageLogger, resolveConfig, type StageConfig, type StageConfigInput, type StageLogger, type StageLoggerOptions } from '@rotating-s3/core';

export { runWithPayloadFile, DelegateError } from '@rotating-s3/core';
export { mockMonitorPayload } from './mock-data.js';

/** The stage's generated config (`stage.config.json`), before environment overrides. */
export const stageConfig: StageConfigInput = JSON.parse(readFileSync(new URL('../stage.config.json', import.meta.url), 'utf8'));

/** The stage's resolved config: generated config < `configFile` < environment. */
export function resolveStageConfig(options: { configFile?: string; env?: NodeJS.ProcessEnv } = {}): StageConfig {
  return resolveConfig({ stageConfig, ...options });
}

/** An in-process logger of the monitor stage. Call `close()` when done. */
export function createLogger(options: StageLoggerOptions & { env?: NodeJS.ProcessEnv } = {}): StageLogger {
  const { env, ...loggerOptions } = options;
  return createStageLogger(resolveStageConfig(env ? { env } : {}), loggerOptions);
}

/** Path of the stage's external script (`monitor_rotating_s3`). */
export const scriptPath = fileURLToPath(new URL('../bin/monitor_rotating_s3.js', import.meta.url));

/** Logs one payload through the stage's external script and returns its JSON result. */
export const logViaScript = createDelegate({ script: scriptPath });
