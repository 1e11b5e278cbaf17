#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/bundle/ by the build (`prepare` on `npm ci`); require() of
// that CommonJS file starts much faster than importing the ES modules of dist/ one by one.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const { runScript } = createRequire(import.meta.url)('../dist/bundle/cli.cjs');
process.exitCode = await runScript(fileURLToPath(import.meta.url), process.argv.slice(2));
