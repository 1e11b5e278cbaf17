#!/usr/bin/env node
// merge_rotating_s3: the external logging script of the merge stage (log, flush, status, doctor,
// consume). Its settings are ../stage.config.json, overridable by ROTATING_S3_* environment variables.
// require() gets the bundled CLI of @rotating-s3/core, which starts faster than its ES modules.
import { createRequire } from 'node:module';

const { runStageCli } = createRequire(import.meta.url)('@rotating-s3/core/cli');
process.exitCode = await runStageCli(new URL('..', import.meta.url), process.argv.slice(2));
