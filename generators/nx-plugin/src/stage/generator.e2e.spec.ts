/**
 * The generator as users run it: `nx g` (dry run, refusal) in this workspace, and Plop non-interactively
 * in a scratch workspace. Nothing here writes to this workspace: the Nx runs are dry runs or refused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { stageGenerator } from './generator';

const workspace = join(__dirname, '..', '..', '..', '..');
const nx = (args: string[]) =>
  spawnSync(process.execPath, [join(workspace, 'node_modules/nx/dist/bin/nx.js'), 'g', '@rotating-s3/generators:stage', '--no-interactive', ...args], {
    cwd: workspace,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0' },
  });
// Plop as a user runs it: vitest's NODE_ENV=test would make Plop treat the run as its own test (no spinner).
const plopEnv = { ...process.env, NODE_ENV: 'production', NO_COLOR: '1', FORCE_COLOR: undefined };
const stagesConfig = () => readFileSync(join(workspace, 'stages.config.json'), 'utf8');

describe('stage generator from the command line', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'stage-generator-e2e-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('lists what it would create on --dry-run and writes nothing', () => {
    const before = stagesConfig();
    const run = nx(['--name', 'e2e_dry_run', '--fetchLimit', '3', '--recordsPath', '/rows', '--dry-run']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('CREATE packages/stages/e2e_dry_run/bin/e2e_dry_run_rotating_s3.js');
    expect(run.stdout).toContain('UPDATE stages.config.json');
    expect(existsSync(join(workspace, 'packages/stages/e2e_dry_run'))).toBe(false);
    expect(stagesConfig()).toBe(before);
  });

  it('refuses an unknown timezone with one line naming the option, and writes nothing', () => {
    const before = stagesConfig();
    const run = nx(['--name', 'e2e_bad_zone', '--timezone', 'Mars/Olympus_Mons']);
    expect(run.status).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toMatch(/--timezone "Mars\/Olympus_Mons" is not an IANA timezone; use an IANA name such as "America\/New_York"/);
    // An expected refusal: no stack-trace hint, and the message is the only line of the error.
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/stacktrace|\n\s+at /);
    expect(run.stderr.split('\n').filter((l) => l.trim() !== '')).toEqual([
      expect.stringMatching(/^ NX {3}--timezone "Mars\/Olympus_Mons" is not an IANA timezone/),
    ]);
    expect(existsSync(join(workspace, 'packages/stages/e2e_bad_zone'))).toBe(false);
    expect(stagesConfig()).toBe(before);
  });

  it('refuses a bad option through Plop with one [ERROR] line and nothing else', () => {
    const run = spawnSync(
      process.execPath,
      [
        join(workspace, 'node_modules/plop/bin/plop.js'),
        '--plopfile',
        join(workspace, 'plopfile.mjs'),
        '--dest',
        scratch,
        'stage',
        '--',
        '--name',
        'plop_bad',
        '--timezone',
        'Mars/Olympus_Mons',
      ],
      { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: plopEnv },
    );
    expect(run.status).toBe(1);
    expect(`${run.stdout}${run.stderr}`.split('\n').filter((l) => l.trim() !== '')).toEqual([
      '[ERROR] --timezone "Mars/Olympus_Mons" is not an IANA timezone; use an IANA name such as "America/New_York", "Europe/Berlin" or "UTC"',
    ]);
    expect(existsSync(join(scratch, 'packages/stages/plop_bad'))).toBe(false);
  });

  it('generates through Plop without prompts exactly what the Nx generator generates', async () => {
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, workspaces: ['packages/stages/*'] }));
    writeFileSync(join(scratch, 'nx.json'), '{}\n');
    writeFileSync(join(scratch, 'tsconfig.build.json'), JSON.stringify({ files: [], references: [] }));
    // Plop runs `nx g`, which needs nx and the generators installed in the destination workspace.
    symlinkSync(join(workspace, 'node_modules'), join(scratch, 'node_modules'), 'dir');
    const run = spawnSync(
      process.execPath,
      [
        join(workspace, 'node_modules/plop/bin/plop.js'),
        '--plopfile',
        join(workspace, 'plopfile.mjs'),
        '--dest',
        scratch,
        'stage',
        '--',
        '--name',
        'plop_stage',
        '--fetchLimit',
        '3',
        '--recordsPath',
        '/rows',
        '--skipInstall',
        'true',
      ],
      { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: plopEnv },
    );
    expect(run.status, run.stdout + run.stderr).toBe(0);
    // Plop's spinner, started without a terminal, printed a bare "- " line around each result.
    expect(run.stderr.split('\n').filter((l) => l.trim() !== '')).toEqual([
      expect.stringMatching(/^✔ {2}-> stage plop_stage: \d+ file\(s\) created or updated in /),
    ]);

    const tree: Tree = createTreeWithEmptyWorkspace();
    tree.delete('.oxfmtrc.json');
    tree.write('tsconfig.build.json', JSON.stringify({ files: [], references: [] }));
    await stageGenerator(tree, { name: 'plop_stage', fetchLimit: 3, recordsPath: '/rows', skipInstall: true });
    const expected = tree.listChanges().filter((c) => c.path.startsWith('packages/stages/plop_stage/') || c.path === 'stages.config.json');
    expect(expected.length).toBeGreaterThan(10);
    for (const change of expected) {
      expect(readFileSync(join(scratch, change.path), 'utf8'), change.path).toBe(change.content!.toString('utf8'));
    }
  });
});
