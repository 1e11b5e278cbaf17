#!/usr/bin/env node
// merge_rotating_s3: the external logging script of the merge stage (log, flush, status, doctor,
// consume). Its settings are ../stage.config.json, overridable by ROTATING_S3_* environment variables.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// require() gets the core's bundled CLI: one CommonJS file starts faster than dist/'s ES modules.
const { runCli } = createRequire(import.meta.url)('@rotating-s3/core/cli');

const stageConfig = JSON.parse(readFileSync(new URL('../stage.config.json', import.meta.url), 'utf8'));
process.exitCode = await runCli(process.argv.slice(2), { name: 'merge_rotating_s3', stageConfig });
