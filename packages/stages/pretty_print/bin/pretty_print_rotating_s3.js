#!/usr/bin/env node
// pretty_print_rotating_s3: the external logging script of the pretty_print stage (log, flush, status, doctor,
// consume). Its settings are ../stage.config.json, overridable by ROTATING_S3_* environment variables.
// The core decides what a bin does from its path (runScript), the same way when a delegate starts this
// script from the CLI's start-up snapshot; require() gets the bundled CLI, which starts faster.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const { runScript } = createRequire(import.meta.url)('@rotating-s3/core/cli');
process.exitCode = await runScript(fileURLToPath(import.meta.url), process.argv.slice(2));
