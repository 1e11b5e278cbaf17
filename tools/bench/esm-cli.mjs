#!/usr/bin/env node
// Bench helper (startup.mjs): a stage's CLI loaded from the core's dist/ ES modules instead of the
// CommonJS bundle the bins use, to measure what the bundle saves. Usage: esm-cli.mjs <stageDir> <args…>
import { runStageCli } from '@rotating-s3/core/cli';

const [stageDir, ...argv] = process.argv.slice(2);
process.exitCode = await runStageCli(stageDir, argv);
