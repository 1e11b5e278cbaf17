/**
 * `npx plop stage` — the stage generator through Plop, for people who prefer its prompts. It runs the same
 * Nx generator (one set of templates: generators/nx-plugin/src/stage/files). Non-interactive:
 *   npx plop stage -- --name ingest --fetchLimit 25 --timezone UTC --recordsPath /rows
 */
import { execFileSync } from 'node:child_process';

const OPTIONS = [
  { name: 'name', message: 'Stage name (^[a-z][a-z0-9_]{0,62}$)?' },
  { name: 'fetchLimit', message: 'Fetches per rotation?', default: '25' },
  { name: 'timezone', message: 'IANA timezone of its midnight?', default: 'UTC' },
  { name: 'recordsPath', message: 'JSON Pointer of the records array?', default: '/records' },
  { name: 'recordIdField', message: 'Field identifying a record (empty: content hash)?', default: '' },
  { name: 'recordType', message: 'What is a record (match, incident, …)?', default: 'record' },
  { name: 'bucket', message: 'S3 bucket?', default: 'pipeline-logs' },
];

export default function (plop) {
  plop.setGenerator('stage', {
    description: 'a pipeline stage package (same generator as npm run generate:stage)',
    prompts: OPTIONS.map((o) => ({ type: 'input', ...o })),
    actions: [
      (answers) => {
        const args = ['nx', 'g', '@rotating-s3/generators:stage', '--no-interactive'];
        for (const { name } of OPTIONS) if (answers[name] !== undefined && answers[name] !== '') args.push(`--${name}`, String(answers[name]));
        return execFileSync('npx', args, { encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' } });
      },
    ],
  });
}
