#!/usr/bin/env node
// rotating-s3: the CLI without a stage of its own (`--stage` / `--config`). Thin launcher: the CLI is
// bundled into dist/bundle/ by the build (`prepare` on `npm ci`); require() of that CommonJS file starts
// much faster than importing the ES modules of dist/ one by one.
import { createRequire } from 'node:module';

const { runCli } = createRequire(import.meta.url)('../dist/bundle/cli.cjs');
process.exitCode = await runCli(process.argv.slice(2), { name: 'rotating-s3' });
