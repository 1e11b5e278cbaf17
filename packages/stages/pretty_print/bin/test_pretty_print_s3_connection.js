#!/usr/bin/env node
// test_pretty_print_s3_connection: the checklist's connection test for the pretty_print stage — credentials,
// bucket, write/read/delete of a probe object, conditional writes, timezone, local directory.
// Exit 0 only when every check passes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// require() gets the core's bundled CLI: one CommonJS file starts faster than dist/'s ES modules.
const { runCli } = createRequire(import.meta.url)('@rotating-s3/core/cli');

const stageConfig = JSON.parse(readFileSync(new URL('../stage.config.json', import.meta.url), 'utf8'));
process.exitCode = await runCli(['doctor', ...process.argv.slice(2)], { name: 'test_pretty_print_s3_connection', stageConfig });
