/**
 * The usage-error contract of both kinds of bin (`rotating-s3` and a stage's `<stage>_rotating_s3`), run
 * as separate processes: every usage error exits 2 with exactly one line `<bin>: error E_USAGE: …` on
 * stderr and nothing on stdout; `--help` prints the usage on stdout and exits 0.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './support.js';

const STAGE_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'stages', 'merge', 'bin', 'merge_rotating_s3.js');
const cwd = mkdtempSync(join(tmpdir(), 'rs3-usage-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function run(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8', input: '' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const bins: Array<[string, string, string[]]> = [
  ['rotating-s3', BIN, ['--stage', 'merge']],
  ['merge_rotating_s3', STAGE_BIN, []],
];

describe.each(bins)('%s usage errors', (name, bin, stageArgs) => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no arguments at all', [], /no command given; choose one of log, flush, status, doctor, consume/],
    ['a missing required option', ['log', ...stageArgs], /required option '--payload-file <path>' not specified/],
    ['an unknown command', ['rotate-now'], /unknown command 'rotate-now'/],
    ['a misspelt command (with the suggestion on the same line)', ['lgo'], /unknown command 'lgo' \(Did you mean log\?\)/],
    ['an unknown option of a command', ['status', '--bogus', ...stageArgs], /unknown option '--bogus'/],
    ['an unknown option before any command', ['--bogus'], /unknown option '--bogus'/],
    ['an option without its value', ['log', ...stageArgs, '--payload-file'], /option '--payload-file <path>' argument missing/],
  ];
  for (const [what, args, message] of cases) {
    it(`exits 2 with one E_USAGE line for ${what}`, () => {
      const r = run(bin, args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${name}: error E_USAGE: `));
      expect(lines[0]).toMatch(message);
      expect(lines[0]).toMatch(/\(run '.+ --help' for usage\)$/);
    });
  }

  it('prints the usage on stdout with exit 0 for --help, <command> --help and help <command>', () => {
    for (const args of [['--help'], ['log', '--help'], ['help', 'log']]) {
      const r = run(bin, args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: ${name}`));
      expect(r.stderr).toBe('');
    }
  });
});
