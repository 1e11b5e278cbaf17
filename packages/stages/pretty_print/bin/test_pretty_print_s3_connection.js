#!/usr/bin/env node
// test_pretty_print_s3_connection: the checklist's connection test for the pretty_print stage — credentials,
// bucket, write/read/delete of a probe object, conditional writes, timezone, local directory.
// Exit 0 only when every check passes.
import { readFileSync } from 'node:fs';
import { runCli } from '@rotating-s3/core/cli';

const stageConfig = JSON.parse(readFileSync(new URL('../stage.config.json', import.meta.url), 'utf8'));
process.exitCode = await runCli(['doctor', ...process.argv.slice(2)], { name: 'test_pretty_print_s3_connection', stageConfig });
