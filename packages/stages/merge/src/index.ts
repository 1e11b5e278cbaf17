/**
 * @rotating-s3/stage-merge — the merge stage's logging, ready to use.
 * - `createLogger()`: in-process logging with this stage's config (environment overrides apply).
 * - `logViaScript(payload)`: the delegate for a main pipeline that runs the stage's external script;
 *   the payload travels in a private temp file (or stdin), never on the command line.
 * - `runWithPayloadFile(command, args, payload)`: the same temp-file runner, to trigger any next stage.
 */
import { defineStage } from '@rotating-s3/core';

export { runWithPayloadFile, DelegateError } from '@rotating-s3/core';

export const { stageConfig, resolveStageConfig, createLogger, scriptPath, logViaScript } = defineStage(new URL('..', import.meta.url), 'merge_rotating_s3');
