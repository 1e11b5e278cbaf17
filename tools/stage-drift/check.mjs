#!/usr/bin/env node
/**
 * npm run check:stages — the stage packages are what the generator makes, checked without writing
 * anything, so it runs on any work tree (CI's clean checkout, or a developer's with uncommitted edits).
 *
 * No drift: packages/stages/* is exactly what the stage generator makes of stages.config.json. The
 *    sync-stages generator runs on an in-memory tree over the work tree (Nx's FsTree, never flushed); every
 *    file it would create, change or delete is drift, and so is any file under packages/stages that it does
 *    not produce (a hand edit, a leftover of a removed stage). Fix: edit stages.config.json or the templates,
 *    then `npm run sync:stages`.
 *
 * Module boundaries (a type:stage project depends only on type:core) are ESLint's job now:
 * @nx/enforce-module-boundaries in eslint.config.mjs, run by `nx run-many -t lint`. A stage's package.json
 * is generated, so a dependency added there by hand is drift here.
 *
 * Exit 0 when there is no drift; otherwise 1, with one line per problem.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const STAGES_DIR = 'packages/stages';

const problems = [];

let generators;
try {
  generators = require('@rotating-s3/generators');
} catch (cause) {
  console.error(`check:stages: cannot load @rotating-s3/generators (${String(cause.message).split('\n')[0]}); run npm ci or npm run build first`);
  process.exit(1);
}
const { FsTree } = require('nx/src/generators/tree');
const tree = new FsTree(root, false);
const produced = new Set();
const write = tree.write.bind(tree);
tree.write = (path, content, options) => {
  produced.add(path.replace(/^\.\//, ''));
  return write(path, content, options);
};
try {
  await generators.syncStagesGenerator(tree, { skipInstall: true });
} catch (error) {
  console.error(`check:stages: stages.config.json cannot be generated: ${error.message}`);
  process.exit(1);
}
for (const change of tree.listChanges()) {
  const verb = { CREATE: 'missing (the generator creates it)', UPDATE: 'differs from the generator output', DELETE: 'is deleted by the generator' }[
    change.type
  ];
  problems.push(`drift: ${change.path} ${verb}`);
}

/** Files under packages/stages that git would commit (tracked or not ignored), else a walk without build output. */
function filesUnderStages() {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', STAGES_DIR], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return [...new Set(out.split('\0').filter(Boolean))].filter((f) => existsSync(join(root, f)));
  } catch {
    const files = [];
    const walk = (dir) => {
      if (!existsSync(dir)) return;
      for (const name of readdirSync(dir)) {
        if (['node_modules', 'dist', 'logs'].includes(name) || name.endsWith('.tsbuildinfo')) continue;
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(relative(root, path).split(sep).join('/'));
      }
    };
    walk(join(root, STAGES_DIR));
    return files;
  }
}
for (const file of filesUnderStages()) {
  if (!produced.has(file)) problems.push(`drift: ${file} is not produced by the generator (hand-made, or left from a stage no longer in stages.config.json)`);
}
const stageNames = new Set(JSON.parse(readFileSync(join(root, 'stages.config.json'), 'utf8')).stages.map((s) => s.stage));
for (const ref of JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')).references ?? []) {
  const match = /^\.\/packages\/stages\/([^/]+)\//.exec(ref.path);
  if (match && !stageNames.has(match[1]))
    problems.push(`drift: tsconfig.build.json references ${ref.path}, but stage "${match[1]}" is not in stages.config.json`);
}

if (problems.length) {
  for (const problem of problems) console.error(problem);
  console.error(
    `check:stages: ${problems.length} problem(s); regenerate with npm run sync:stages (after editing stages.config.json or generators/nx-plugin/src/stage/files)`,
  );
  process.exit(1);
}
const stages = [...stageNames].join(', ');
console.log(`check:stages: ${stageNames.size} stage package(s) (${stages}) match stages.config.json and the generator`);
