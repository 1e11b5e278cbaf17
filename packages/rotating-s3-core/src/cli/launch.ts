/**
 * What a bin does, given its own path: one definition shared by the bins (`bin/*.js`) and the start-up
 * snapshot (which only knows the script path it was started with, `process.argv[1]`).
 *
 * - `<pkg>/bin/<stage>_rotating_s3.js`: the stage's CLI, configured by `<pkg>/stage.config.json`;
 * - `<pkg>/bin/test_<stage>_s3_connection.js`: `doctor` for that stage (the checklist's connection test);
 * - anything else (`rotating-s3`): the CLI without a stage config (`--stage` / `--config`).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { StageConfigInput } from '../config/schema.js';
import { runCli } from './main.js';

export * from './main.js';

export async function runScript(scriptPath: string, argv: string[]): Promise<number> {
  const name = basename(scriptPath).replace(/\.[cm]?js$/, '');
  const connectionTest = /^test_[a-z0-9_]+_s3_connection$/.test(name);
  if (!connectionTest && !/^[a-z0-9_]+_rotating_s3$/.test(name)) return runCli(argv, { name });
  // Through a symlink (node_modules/.bin/<name>), the stage package is where the link points.
  const stageConfigSource = join(dirname(realpathSync(scriptPath)), '..', 'stage.config.json');
  const stageConfig = JSON.parse(readFileSync(stageConfigSource, 'utf8')) as StageConfigInput;
  return runCli(connectionTest ? ['doctor', ...argv] : argv, { name, stageConfig, stageConfigSource });
}
