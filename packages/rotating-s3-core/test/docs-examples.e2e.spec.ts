/**
 * The command examples of README.md and docs/*.md stay runnable, the way ops-docs.spec.ts keeps the error
 * codes documented. A fenced `sh` block right after a `<!-- runnable-example -->` line is run with bash
 * (`set -euo pipefail`) against the test S3 server, as a user would run it from the repository root after
 * `npm ci` and the README's S3 set-up: in a scratch directory that has the repository's `node_modules` and
 * `stages.config.json`, so nothing lands in the repository. `<!-- runnable-example: in-repo -->` runs the
 * block in the repository itself and checks that it changed nothing there (a generator's --dry-run).
 * The clock is fixed: `--now` is appended to every rotating-s3 command line.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestBucket, s3Env } from '@rotating-s3/test-harness';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const NOW = '2026-11-28T14:00:00-05:00';
const MARKER = /^<!-- runnable-example(?:: (in-repo))? -->$/;

interface Example {
  file: string;
  line: number;
  inRepo: boolean;
  script: string;
}

/** Every marked `sh` block of README.md and docs/*.md, in document order. */
function examples(): Example[] {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((n) => n.endsWith('.md'))
      .map((n) => `docs/${n}`),
  ];
  const found: Example[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    lines.forEach((text, i) => {
      const marker = MARKER.exec(text.trim());
      if (!marker) return;
      expect(lines[i + 1], `${file}:${i + 2} must open a \`\`\`sh block`).toBe('```sh');
      const end = lines.indexOf('```', i + 2);
      found.push({ file, line: i + 1, inRepo: marker[1] === 'in-repo', script: lines.slice(i + 2, end).join('\n') });
    });
  }
  return found;
}

/** `npx merge_rotating_s3 log … # comment` → `npx merge_rotating_s3 log … --now <NOW> # comment`. */
function withFixedClock(script: string): string {
  return script
    .split('\n')
    .map((line) => line.replace(/^((?:npx )?(?:[a-z][a-z0-9_]*_rotating_s3|rotating-s3) [^#>|]*?)(\s*(?:[#>|].*)?)$/, `$1 --now ${NOW}$2`))
    .join('\n');
}

const scratch = mkdtempSync(join(tmpdir(), 'rs3-docs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const gitStatus = () => spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8' }).stdout;

describe('the command examples of README.md and docs/', () => {
  const all = examples();

  it('are marked in the README: its tour, the generator and the consumer', () => {
    expect(all.filter((e) => e.file === 'README.md').length).toBeGreaterThanOrEqual(3);
    expect(withFixedClock('npx merge_rotating_s3 flush   # now')).toBe(`npx merge_rotating_s3 flush --now ${NOW}   # now`);
    expect(withFixedClock('npx rotating-s3 consume --stage merge > out.jsonl')).toBe(`npx rotating-s3 consume --stage merge --now ${NOW} > out.jsonl`);
  });

  it('run with exit 0 against the test S3 server, in document order', async () => {
    const bucket = await createTestBucket('docs');
    const cwd = join(scratch, 'user');
    mkdirSync(cwd);
    cpSync(join(ROOT, 'stages.config.json'), join(cwd, 'stages.config.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(cwd, 'node_modules'), 'dir');
    // What the README's "Try it by hand" set-up exports, pointed at the test server.
    const env = {
      PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
      HOME: process.env['HOME'] ?? scratch,
      ...s3Env(bucket),
      npm_config_update_notifier: 'false',
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
    };
    for (const example of all) {
      const before = example.inRepo ? gitStatus() : '';
      const r = spawnSync('bash', ['-c', `set -euo pipefail\n${withFixedClock(example.script)}`], {
        cwd: example.inRepo ? ROOT : cwd,
        env,
        encoding: 'utf8',
        timeout: 180_000,
      });
      const where = `${example.file}:${example.line}`;
      expect(r.status, `${where} exited ${r.status}:\n${r.stderr}`).toBe(0);
      expect(r.stderr, `${where} printed an error`).not.toMatch(/error E_|npm (ERR|error)/);
      if (example.inRepo) expect(gitStatus(), `${where} changed the repository`).toBe(before);
    }
  }, 600_000);
});
