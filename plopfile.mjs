/**
 * `npx plop stage` — the Nx `stage` generator through Plop, for people who prefer its prompts. The answers are
 * handed to `nx g @rotating-s3/generators:stage` (Nx's own command line, not its internals), and the prompts
 * are built from the generator's own schema.json, so the two front ends cannot drift apart.
 *
 * Non-interactive: name the options after `--`; every option not given takes the generator's default and
 * nothing is asked (nor is anything asked when stdin is not a terminal):
 *   npx plop stage -- --name ingest --fetchLimit 25 --timezone UTC --recordsPath /rows
 * `--dest <dir>` (a Plop option) generates into another Nx workspace (one where nx and
 * @rotating-s3/generators resolve) than this one.
 */
import { spawnSync } from 'node:child_process';
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
    } else options[key] = value;
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
        // A bad option is refused here, by the generator's own rules, as Plop's one [ERROR] line.
        loadGenerator().normalizeStageOptions(options);
        const root = plop.getDestBasePath();
        // Nx's own command line runs the generator (and npm install afterwards, unless --skipInstall); a
        // one-off command needs no Nx daemon, so none is left running in the destination.
        const flags = Object.entries(options).map(([key, value]) => `--${key}=${value}`);
        const run = spawnSync(process.execPath, [require.resolve('nx/bin/nx.js'), 'g', '@rotating-s3/generators:stage', '--no-interactive', ...flags], {
          cwd: root,
          encoding: 'utf8',
          stdio: ['inherit', 'pipe', 'pipe'],
          env: { ...process.env, NX_DAEMON: 'false' },
        });
        const changes = (run.stdout ?? '').split('\n').filter((line) => /^(CREATE|UPDATE|DELETE) /.test(line));
        if (run.status !== 0) {
          const message = `${run.stderr}\n${run.stdout}`
            .split('\n')
            .map((line) => line.replace(/^\s*NX\s+/, '').trim())
            .find((line) => line !== '');
          throw new Error(message ?? `nx g @rotating-s3/generators:stage exited with ${run.status ?? run.signal}`);
        }
        if (changes.length) process.stdout.write(`${changes.join('\n')}\n`);
        return `stage ${options.name}: ${changes.length} file(s) created or updated in ${root}`;
      },
    ],
  });
}
