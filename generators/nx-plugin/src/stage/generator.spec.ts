import { readJson, readProjectConfiguration, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { STAGE_NAME_PATTERN as CORE_STAGE_NAME, resolveConfig } from '@rotating-s3/core';
import { normalizeStageOptions, stageGenerator } from './generator';
import { removeStageGenerator } from '../remove-stage/generator';
import { syncStagesGenerator } from '../sync-stages/generator';
import { STAGE_NAME_PATTERN } from './validate';

const options = {
  name: 'merge',
  fetchLimit: 25,
  timezone: 'America/New_York',
  recordsPath: '/matches',
  recordIdField: 'match_id',
  recordType: 'match',
  skipInstall: true,
};

function snapshot(tree: Tree): Record<string, string> {
  return Object.fromEntries(tree.listChanges().map((c) => [c.path, c.content?.toString('utf-8') ?? '<deleted>']));
}

describe('stage generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    // Like this workspace: no formatter configured, so formatFiles leaves the generated text as it is.
    tree.delete('.oxfmtrc.json');
    tree.write('tsconfig.build.json', JSON.stringify({ files: [], references: [] }));
  });

  it('creates the stage package, its bins, config, tests and project configuration', async () => {
    await stageGenerator(tree, options);
    const root = 'packages/stages/merge';
    for (const file of [
      'package.json',
      'stage.config.json',
      'bin/merge_rotating_s3.js',
      'bin/test_merge_s3_connection.js',
      'src/index.ts',
      'src/test_merge_complete_logging.spec.ts',
      'vitest.config.ts',
      'tsconfig.lib.json',
      'README.md',
    ]) {
      expect(tree.exists(`${root}/${file}`), file).toBe(true);
    }
    const pkg = readJson(tree, `${root}/package.json`);
    expect(pkg.bin).toEqual({ merge_rotating_s3: './bin/merge_rotating_s3.js', test_merge_s3_connection: './bin/test_merge_s3_connection.js' });
    expect(pkg.dependencies).toEqual({ '@rotating-s3/core': '0.1.0' });
    expect(readJson(tree, `${root}/stage.config.json`)).toEqual({
      stage: 'merge',
      bucket: 'pipeline-logs',
      prefix: 'logs/merge',
      localDir: './logs/merge',
      fetchLimit: 25,
      timezone: 'America/New_York',
      recordsPath: '/matches',
      recordIdField: 'match_id',
    });
    const project = readProjectConfiguration(tree, 'stage-merge');
    expect(project.root).toBe(root);
    expect(project.tags).toEqual(['type:stage', 'stage:merge']);
    // lint, typecheck and test are inferred by the nx.json plugins; the stage's own build is the one written.
    expect(Object.keys(project.targets ?? {}).sort()).toEqual(['build']);
    expect(readJson(tree, 'stages.config.json').stages).toEqual([
      {
        stage: 'merge',
        recordType: 'match',
        bucket: 'pipeline-logs',
        prefix: 'logs/merge',
        localDir: './logs/merge',
        fetchLimit: 25,
        timezone: 'America/New_York',
        recordsPath: '/matches',
        recordIdField: 'match_id',
      },
    ]);
    expect(readJson(tree, 'tsconfig.build.json').references).toEqual([{ path: './packages/stages/merge/tsconfig.lib.json' }]);
    // The per-stage spec only runs the shared contract; mock data comes from stage.config.json, not a copy.
    expect(tree.exists(`${root}/src/mock-data.ts`)).toBe(false);
    const spec = tree.read(`${root}/src/test_merge_complete_logging.spec.ts`, 'utf-8')!;
    expect(spec.split('\n').length).toBeLessThan(30);
    expect(spec).toContain("import { describeStageContract } from '@rotating-s3/core/testing';");
    expect(spec).toContain("describeStageContract(new URL('..', import.meta.url), { s3 });");
    expect(tree.read(`${root}/src/index.ts`, 'utf-8')).not.toContain('mock-data');
  });

  it('changes nothing when run again with the same options', async () => {
    await stageGenerator(tree, options);
    const first = snapshot(tree);
    await stageGenerator(tree, options);
    expect(snapshot(tree)).toEqual(first);
  });

  it('refuses an existing stage with other options unless --overwrite, naming what differs', async () => {
    await stageGenerator(tree, options);
    await expect(stageGenerator(tree, { ...options, fetchLimit: 10 })).rejects.toThrow(
      'stage "merge" exists already (stages.config.json) and these options differ: fetchLimit 25 → 10; pass --overwrite',
    );
    await stageGenerator(tree, { ...options, fetchLimit: 10, overwrite: true });
    expect(readJson(tree, 'packages/stages/merge/stage.config.json').fetchLimit).toBe(10);
  });

  it.each([
    [{ name: 'Bad/Name' }, /^--name "Bad\/Name" must match \^\[a-z\]/],
    [{ name: 'ok', timezone: 'Mars/Base' }, /^--timezone "Mars\/Base" is not an IANA timezone; use an IANA name/],
    [{ name: 'ok', timezone: '-05:00' }, /^--timezone "-05:00" is a fixed UTC offset, not an IANA timezone/],
    [{ name: 'ok', fetchLimit: 0 }, /^--fetchLimit 0 must be at least 1$/],
    // The core caps fetchLimit at 100000; the generator's own copy of the rules used to accept this.
    [{ name: 'ok', fetchLimit: 200000 }, /^--fetchLimit 200000 must be at most 100000$/],
    [{ name: 'ok', recordsPath: 'matches' }, /^--recordsPath "matches" must be a JSON Pointer/],
    [{ name: 'ok', sse: 'kms' }, /^--sse "kms" must be one of AES256, aws:kms, aws:kms:dsse$/],
    [{ name: 'ok', sseKmsKeyId: 'alias/logs' }, /^--sseKmsKeyId "alias\/logs" "sseKmsKeyId" is set \("alias\/logs"\) but "sse" is unset/],
    [{ name: 'ok', storageClass: 'GLACIER' }, /^--storageClass "GLACIER" must be one of STANDARD/],
    [{ name: 'ok', expectedBucketOwner: '1234' }, /^--expectedBucketOwner "1234" must be a 12-digit AWS account id/],
  ])('refuses bad options %j with one clear line and writes nothing', async (bad, message) => {
    const before = snapshot(tree);
    await expect(stageGenerator(tree, { ...bad, skipInstall: true })).rejects.toThrow(message);
    expect(snapshot(tree)).toEqual(before);
  });

  it('refuses a stage folder that stages.config.json does not list, unless --overwrite', async () => {
    tree.write('packages/stages/merge/notes.md', 'hand-made');
    await expect(stageGenerator(tree, options)).rejects.toThrow(/packages\/stages\/merge exists already but is not in stages.config.json/);
    await stageGenerator(tree, { ...options, overwrite: true });
    expect(tree.exists('packages/stages/merge/stage.config.json')).toBe(true);
  });

  it('marks the bins executable', async () => {
    await stageGenerator(tree, options);
    const modes = tree
      .listChanges()
      .filter((c) => c.path.includes('/bin/'))
      .map((c) => [c.path, c.options?.mode]);
    expect(modes).toEqual([
      ['packages/stages/merge/bin/merge_rotating_s3.js', 0o755],
      ['packages/stages/merge/bin/test_merge_s3_connection.js', 0o755],
    ]);
  });

  it('removes a stage: its package, its stages.config.json entry and its build reference', async () => {
    await stageGenerator(tree, options);
    await stageGenerator(tree, { name: 'monitor', skipInstall: true });
    await removeStageGenerator(tree, { name: 'merge', skipInstall: true });
    expect(tree.children('packages/stages')).toEqual(['monitor']);
    expect(readJson(tree, 'stages.config.json').stages.map((s: { stage: string }) => s.stage)).toEqual(['monitor']);
    expect(readJson(tree, 'tsconfig.build.json').references).toEqual([{ path: './packages/stages/monitor/tsconfig.lib.json' }]);
    await expect(removeStageGenerator(tree, { name: 'merge', skipInstall: true })).rejects.toThrow(/nothing to remove/);
  });

  it('regenerates every stage of stages.config.json identically (the drift check)', async () => {
    await stageGenerator(tree, options);
    await stageGenerator(tree, {
      name: 'monitor',
      recordsPath: '/incidents',
      recordType: 'incident',
      forcePathStyle: true,
      payloadLayout: 'compact',
      skipInstall: true,
    });
    expect(readJson(tree, 'packages/stages/monitor/stage.config.json')).toMatchObject({ forcePathStyle: true, payloadLayout: 'compact' });
    await expect(stageGenerator(tree, { name: 'other', payloadLayout: 'tiny' as 'compact', skipInstall: true })).rejects.toThrow(
      /--payloadLayout "tiny" must be "pretty" or "compact"/,
    );
    const first = snapshot(tree);
    await syncStagesGenerator(tree, { skipInstall: true });
    expect(snapshot(tree)).toEqual(first);
  });

  it("writes the object settings to stages.config.json and the stage package's config, which the runtime accepts", async () => {
    const settings = { sse: 'aws:kms', sseKmsKeyId: 'alias/logs', storageClass: 'STANDARD_IA', expectedBucketOwner: '111122223333' };
    await stageGenerator(tree, { ...options, ...settings });
    const written = readJson(tree, 'packages/stages/merge/stage.config.json');
    expect(written).toMatchObject(settings);
    expect(readJson(tree, 'stages.config.json').stages[0]).toMatchObject(settings);
    expect(resolveConfig({ stageConfig: written, env: {} })).toMatchObject(settings);
  });

  it("validates with the core's own rules: whatever the generator accepts, the runtime accepts", async () => {
    const accepts = {
      generator: (extra: Record<string, unknown>) =>
        normalizeStageOptions({ name: 'merge', ...extra }).then(
          () => true,
          () => false,
        ),
      runtime: async (extra: Record<string, unknown>) => passes(() => resolveConfig({ stageConfig: { stage: 'merge', ...extra } as never, env: {} })),
    };
    const cases = [
      ...['America/New_York', 'UTC', 'Etc/GMT+5', 'US/Eastern', 'Mars/Olympus', '-05:00', 'Z', 'UTC+5', 'GMT-03:00'].map((timezone) => ({ timezone })),
      ...[1, 100000, 100001, 200000, 0, 2.5].map((fetchLimit) => ({ fetchLimit })),
      ...['', '/', '/a', '/a~0b/c~1d', 'a', '/a~2', '~1'].map((recordsPath) => ({ recordsPath })),
      { sse: 'aws:kms', sseKmsKeyId: 'alias/k' },
      { sse: 'AES256', sseKmsKeyId: 'alias/k' },
      ...['15m', '1s', '7d', '8d', '0s', 'off', '15', '1.5h', '15M'].map((maxPendingAge) => ({ maxPendingAge })),
    ];
    for (const extra of cases) expect(await accepts.generator(extra), JSON.stringify(extra)).toBe(await accepts.runtime(extra));
    // remove-stage checks names before loading the core: the same pattern.
    expect(STAGE_NAME_PATTERN.source).toBe(CORE_STAGE_NAME.source);
  });

  it('writes maxPendingAge into the stage config, and refuses a bad one before writing anything', async () => {
    await stageGenerator(tree, { ...options, maxPendingAge: '15m' });
    expect(readJson(tree, 'packages/stages/merge/stage.config.json').maxPendingAge).toBe('15m');
    expect(readJson(tree, 'stages.config.json').stages[0].maxPendingAge).toBe('15m');
    const fresh = createTreeWithEmptyWorkspace();
    await expect(stageGenerator(fresh, { ...options, maxPendingAge: '15 minutes' })).rejects.toThrow(/maxPendingAge.*15 minutes/);
    expect(fresh.exists('stages.config.json')).toBe(false);
  });
});

function passes(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}
