#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by the workspace's `prepare` on `npm ci`).
import { runCli } from '../dist/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
