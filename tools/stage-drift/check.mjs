#!/usr/bin/env node
/**
 * npm run check:stages — two rules about the stage packages, checked without writing anything, so it runs
 * on any work tree (CI's clean checkout, or a developer's with uncommitted edits):
 *
 * 1. No drift: packages/stages/* is exactly what the stage generator makes of stages.config.json. The
 *    sync-stages generator runs on an in-memory tree over the work tree (Nx's FsTree, never flushed); every
 *    file it would create, change or delete is drift, and so is any file under packages/stages that it does
 *    not produce (a hand edit, a leftover of a removed stage). Fix: edit stages.config.json or the templates,
 *    then `npm run sync:stages`.
 * 2. Module boundaries (Nx's depConstraints idea, without ESLint): a project tagged `type:stage` depends only
 *    on projects tagged `type:core`; the test harness is allowed as a devDependency, used only by tests.
 *    Checked in each stage's package.json, in the Nx project graph, and in the runtime files it ships.
 *
 * Exit 0 when both hold; otherwise 1, with one line per problem.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const STAGES_DIR = 'packages/stages';

/** The dependency rule, in the shape of @nx/enforce-module-boundaries' depConstraints. */
const DEP_CONSTRAINTS = [{ sourceTag: 'type:stage', onlyDependOnLibsWithTags: ['type:core'], testOnlyPackages: ['@rotating-s3/test-harness'] }];

const problems = [];

// ---- 1. drift -------------------------------------------------------------------------------------------
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
  const verb = { CREATE: 'missing (the generator creates it)', UPDATE: 'differs from the generator output', DELETE: 'is deleted by the generator' }[change.type];
  problems.push(`drift: ${change.path} ${verb}`);
}

/** Files under packages/stages that git would commit (tracked or not ignored), else a walk without build output. */
function filesUnderStages() {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', STAGES_DIR], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
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
  if (match && !stageNames.has(match[1])) problems.push(`drift: tsconfig.build.json references ${ref.path}, but stage "${match[1]}" is not in stages.config.json`);
}

// ---- 2. module boundaries --------------------------------------------------------------------------------
const { createProjectGraphAsync } = require('@nx/devkit');
const graph = await createProjectGraphAsync({ exitOnError: false });
const nodes = graph.nodes;
const packageOf = (name) => nodes[name]?.data?.metadata?.js?.packageName ?? readPackageName(nodes[name]?.data?.root);
function readPackageName(projectRoot) {
  try {
    return JSON.parse(readFileSync(join(root, projectRoot, 'package.json'), 'utf8')).name;
  } catch {
    return undefined;
  }
}
const projectByPackage = new Map(Object.keys(nodes).map((name) => [packageOf(name), name]));
const tagsOf = (name) => nodes[name]?.data?.tags ?? [];

for (const rule of DEP_CONSTRAINTS) {
  const allowed = (project) => rule.onlyDependOnLibsWithTags.some((tag) => tagsOf(project).includes(tag));
  const testOnly = (project) => rule.testOnlyPackages.includes(packageOf(project));
  for (const source of Object.keys(nodes).filter((name) => tagsOf(name).includes(rule.sourceTag))) {
    const sourceRoot = nodes[source].data.root;
    for (const dep of graph.dependencies[source] ?? []) {
      if (!nodes[dep.target] || allowed(dep.target) || testOnly(dep.target)) continue;
      problems.push(`boundary: ${source} (${rule.sourceTag}) depends on ${dep.target} [${tagsOf(dep.target).join(', ')}]; a stage may depend only on ${rule.onlyDependOnLibsWithTags.join(', ')}`);
    }
    const pkg = JSON.parse(readFileSync(join(root, sourceRoot, 'package.json'), 'utf8'));
    for (const [field, ok] of [['dependencies', allowed], ['devDependencies', (p) => allowed(p) || testOnly(p)], ['peerDependencies', allowed], ['optionalDependencies', allowed]]) {
      for (const name of Object.keys(pkg[field] ?? {})) {
        const project = projectByPackage.get(name);
        if (project && !ok(project)) problems.push(`boundary: ${sourceRoot}/package.json ${field} has ${name} (project ${project}); a stage may depend only on ${rule.onlyDependOnLibsWithTags.join(', ')}${field === 'dependencies' && testOnly(project) ? ' (the test harness belongs in devDependencies)' : ''}`);
      }
    }
    // What the package ships (bins and non-test sources) must not reach the test-only packages.
    for (const file of filesUnderStages().filter((f) => f.startsWith(`${sourceRoot}/`) && /\.(m?js|ts)$/.test(f) && !/\.spec\.ts$|vitest\.config\./.test(f))) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const [, specifier] of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](@rotating-s3\/[^'"/]+)/g)) {
        const project = projectByPackage.get(specifier);
        if (project && !allowed(project)) problems.push(`boundary: ${file} imports ${specifier}; only tests may use it`);
      }
    }
  }
}

if (problems.length) {
  for (const problem of problems) console.error(problem);
  console.error(`check:stages: ${problems.length} problem(s); regenerate with npm run sync:stages (after editing stages.config.json or generators/nx-plugin/src/stage/files) and keep stage packages depending only on @rotating-s3/core`);
  process.exit(1);
}
const stages = [...stageNames].join(', ');
console.log(`check:stages: ${stageNames.size} stage package(s) (${stages}) match stages.config.json and the generator; type:stage depends only on type:core`);
