#!/usr/bin/env node
// test_monitor_s3_connection: the checklist's connection test for the monitor stage — credentials,
// bucket, write/read/delete of a probe object, conditional writes, timezone, local directory.
// Exit 0 only when every check passes. (`doctor` of the stage in .., with ../stage.config.json.)
import { createRequire } from 'node:module';

const { runStageCli } = createRequire(import.meta.url)('@rotating-s3/core/cli');
process.exitCode = await runStageCli(new URL('..', import.meta.url), ['doctor', ...process.argv.slice(2)], { name: 'test_monitor_s3_connection' });
