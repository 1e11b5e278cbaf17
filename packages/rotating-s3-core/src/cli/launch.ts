/**
 * What the bins run (through the CommonJS bundle, `require('@rotating-s3/core/cli')`): each bin says which
 * CLI it is, nothing is inferred from its file name.
 *
 * - `<pkg>/bin/<stage>_rotating_s3.js`: `runStageCli(<pkg>, argv)`, configured by `<pkg>/stage.config.json`;
 * - `<pkg>/bin/test_<stage>_s3_connection.js`: `runStageCli(<pkg>, ['doctor', ...argv], { name })`;
 * - `rotating-s3`: `runCli(argv)`, without a stage config (`--stage` / `--config`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StageConfigInput } from '../config/schema.js';
import { runCli } from './main.js';

export * from './main.js';

/**
 * Runs the CLI of the stage package in `stageDir` (a path or file URL of the directory holding its
 * `stage.config.json`). `name` is the program name in help and errors (default `<stage>_rotating_s3`).
 */
export async function runStageCli(stageDir: string | URL, argv: string[], options: { name?: string } = {}): Promise<number> {
  const dir = typeof stageDir === 'string' ? stageDir : fileURLToPath(stageDir);
  const stageConfigSource = join(dir, 'stage.config.json');
  const stageConfig = JSON.parse(readFileSync(stageConfigSource, 'utf8')) as StageConfigInput;
  return runCli(argv, { name: options.name ?? `${stageConfig.stage}_rotating_s3`, stageConfig, stageConfigSource });
}
