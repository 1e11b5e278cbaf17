#!/usr/bin/env node
/**
 * npm run check:stages — fails when the committed stage packages differ from what the generator makes of
 * stages.config.json. Regenerates every stage in place (sync-stages), then asks git what changed; on a
 * clean checkout nothing may change. Run it on a clean work tree (CI does).
 */
import { execFileSync } from 'node:child_process';

const paths = ['packages/stages', 'stages.config.json', 'tsconfig.build.json'];
const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NX_DAEMON: 'false' } });

const dirtyBefore = run('git', ['status', '--porcelain', '--', ...paths]);
if (dirtyBefore.trim()) {
  console.error(`check:stages needs committed stage packages; uncommitted changes:\n${dirtyBefore}`);
  process.exit(1);
}
run('npx', ['nx', 'g', '@rotating-s3/generators:sync-stages', '--no-interactive']);
const drift = run('git', ['status', '--porcelain', '--', ...paths]);
if (drift.trim()) {
  console.error(`stage packages drifted from the generator (regenerate with npm run sync:stages and commit):\n${drift}`);
  console.error(run('git', ['--no-pager', 'diff', '--stat', '--', ...paths]));
  process.exit(1);
}
console.log('stage packages match stages.config.json and the generator');
