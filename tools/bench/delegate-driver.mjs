#!/usr/bin/env node
/**
 * Bench helper (startup.mjs): a pipeline process that logs through the merge stage's delegate
 * (logViaScript: the stage bin as a child process, payload in a private temp file). Each line on stdin
 * asks for one call; the call's wall milliseconds come back as one line on stdout.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [stageModule, payloadFile] = process.argv.slice(2);
const { logViaScript } = await import(stageModule);
const payload = JSON.parse(readFileSync(payloadFile, 'utf8'));
for await (const _line of createInterface({ input: process.stdin })) {
  const started = performance.now();
  await logViaScript(payload);
  process.stdout.write(`${performance.now() - started}\n`);
}
