/**
 * `npx plop stage` — the Nx `stage` generator through Plop, for people who prefer its prompts. Same generator
 * code, same templates (generators/nx-plugin/src/stage/files), and prompts built from the generator's own
 * schema.json, so the two front ends cannot drift apart.
 *
 * Non-interactive: name the options after `--`; every option not given takes the generator's default and
 * nothing is asked (nor is anything asked when stdin is not a terminal):
 *   npx plop stage -- --name ingest --fetchLimit 25 --timezone UTC --recordsPath /rows
 * `--dest <dir>` (a Plop option) generates into another workspace root than this one.
 */
import { createRequire } from 'node:module';
import { progressSpinner } from 'plop';

// Plop's spinner writes a bare "- " line each time it starts when stderr is not a terminal (CI, pipes, an
// IDE); a generator that runs in a second has nothing to animate anyway, so it is not started there.
// The spinner is the one Plop exports from its main module: the ✔/✖ result lines still print.
if (!process.stderr.isTTY) progressSpinner.start = () => progressSpinner;

// The generators are CommonJS (Nx loads them with require); an ESM file reaches them through createRequire.
const require = createRequire(import.meta.url);
const schema = require('./generators/nx-plugin/src/stage/schema.json');

function loadGenerator() {
  try {
    return require('@rotating-s3/generators');
  } catch (cause) {
    throw new Error(`cannot load @rotating-s3/generators (${cause.message.split('\n')[0]}); run npm ci (or npm run build) first`);
  }
}

/** Plop answers (strings from the command line, or prompt values) as generator options. */
function toOptions(answers) {
  const options = {};
  for (const [key, value] of Object.entries(answers)) {
    if (value === undefined || value === '') continue;
    const type = schema.properties[key]?.type;
    if (type === 'integer') options[key] = Number(value);
    else if (type === 'boolean') {
      // A boolean without a schema default (forcePathStyle) stays unset unless answered yes.
      const on = value === true || value === 'true';
      if (on || schema.properties[key].default !== undefined) options[key] = on;
    }
    else options[key] = value;
  }
  return options;
}

/** Inquirer validation by the generator's own rules, with the answers given so far. */
function validateWith(key) {
  return async (value, answers = {}) => {
    if (key !== 'name' && !answers.name) return true;
    try {
      await loadGenerator().normalizeStageOptions({ ...toOptions({ ...answers, [key]: value }), name: key === 'name' ? value : answers.name });
      return true;
    } catch (error) {
      return error.message;
    }
  };
}

// Named options after `--` mean "use these, default the rest": no questions then, nor without a terminal.
const ask = Boolean(process.stdin.isTTY) && !process.argv.includes('--');

const prompts = Object.entries(schema.properties).map(([key, property]) => {
  const prompt = {
    name: key,
    type: property.type === 'boolean' ? 'confirm' : 'input',
    message: property['x-prompt'] ?? `${property.description}${property.type === 'boolean' ? '' : ' (empty: default)'}`,
    // A boolean `when` (not a function) keeps the prompt bypassable from the command line.
    when: ask,
  };
  if (property.default !== undefined) prompt.default = property.type === 'boolean' ? property.default : String(property.default);
  if (property.type !== 'boolean') prompt.validate = validateWith(key);
  return prompt;
});

export default function (plop) {
  plop.setGenerator('stage', {
    description: `${schema.title} (the same generator as npm run generate:stage)`,
    prompts,
    actions: [
      async (answers) => {
        const options = toOptions(answers);
        if (!options.name) throw new Error('--name is required: npx plop stage -- --name <stage> [--fetchLimit n] [--timezone tz] [--recordsPath ptr] …');
        const { stageGenerator } = loadGenerator();
        const { FsTree, flushChanges, printChanges } = require('nx/src/generators/tree');
        const root = plop.getDestBasePath();
        const tree = new FsTree(root, false);
        const installDependencies = await stageGenerator(tree, options);
        const changes = tree.listChanges();
        printChanges(changes);
        flushChanges(root, changes);
        // npm install: links the new bins and records the package in package-lock.json (unless --skipInstall).
        if (installDependencies) await installDependencies();
        return `stage ${options.name}: ${changes.length} file(s) created or updated in ${root}`;
      },
    ],
  });
}
