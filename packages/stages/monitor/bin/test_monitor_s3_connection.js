#!/usr/bin/env node
// test_monitor_s3_connection: the checklist's connection test for the monitor stage — credentials,
// bucket, write/read/delete of a probe object, conditional writes, timezone, local directory.
// Exit 0 only when every check passes. (runScript: `doctor` with ../stage.config.json.)
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const { runScript } = createRequire(import.meta.url)('@rotating-s3/core/cli');
process.exitCode = await runScript(fileURLToPath(import.meta.url), process.argv.slice(2));
