/**
 * What a generated stage package exports, built from its directory: the stage's config, an in-process
 * logger and the delegate to its external script. Generated packages call `defineStage` and re-export
 * the result, so the behaviour lives here once instead of in every generated `src/index.ts`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../config/load.js';
import type { StageConfig, StageConfigInput } from '../config/schema.js';
import { createDelegate, type Delegate } from '../delegate/delegate.js';
import { createStageLogger } from '../logger/stage-logger.js';
import type { StageLogger, StageLoggerOptions } from '../logger/types.js';

export interface StagePackage {
  /** The stage's generated config (`stage.config.json`), before environment overrides. */
  stageConfig: StageConfigInput;
  /** The resolved config: generated config < `configFile` < environment. */
  resolveStageConfig(options?: { configFile?: string; env?: NodeJS.ProcessEnv }): StageConfig;
  /** An in-process logger of the stage. Call `close()` when done. */
  createLogger(options?: StageLoggerOptions & { env?: NodeJS.ProcessEnv }): StageLogger;
  /** Path of the stage's external script. */
  scriptPath: string;
  /** Logs one payload through the external script (payload in a private temp file, or stdin). */
  logViaScript: Delegate;
}

/** `packageRoot`: the stage package's directory (e.g. `new URL('..', import.meta.url)` from dist/). */
export function defineStage(packageRoot: URL, scriptName: string): StagePackage {
  const file = new URL('stage.config.json', packageRoot);
  const stageConfig = JSON.parse(readFileSync(file, 'utf8')) as StageConfigInput;
  // resolveConfig validates it (a hand-edited file is refused with the file named), like every layer.
  const resolveStageConfig: StagePackage['resolveStageConfig'] = (options = {}) =>
    resolveConfig({ stageConfig, stageConfigSource: fileURLToPath(file), ...options });
  const scriptPath = fileURLToPath(new URL(`bin/${scriptName}.js`, packageRoot));
  return {
    stageConfig,
    resolveStageConfig,
    createLogger(options = {}) {
      const { env, ...loggerOptions } = options;
      return createStageLogger(resolveStageConfig(env ? { env } : {}), loggerOptions);
    },
    scriptPath,
    logViaScript: createDelegate({ script: scriptPath }),
  };
}
