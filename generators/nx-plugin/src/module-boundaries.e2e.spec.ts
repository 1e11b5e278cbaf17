/**
 * The workspace's ESLint config refuses what the stage generator must never produce: a stage package that
 * depends on another stage (or on a tool). The files are linted as if they were in packages/stages/merge,
 * with the real eslint.config.mjs and Nx project graph; nothing is written to the workspace.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const workspace = join(__dirname, '..', '..', '..');
const eslint = new ESLint({ cwd: workspace });
const inMerge = (name: string) => join(workspace, 'packages/stages/merge/src', name);

async function boundaryErrors(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries of a stage package', () => {
  it('refuses a stage that imports another stage', async () => {
    const errors = await boundaryErrors(
      "import { stageConfig } from '@rotating-s3/stage-monitor';\nexport const other = stageConfig;\n",
      inMerge('uses-monitor.ts'),
    );
    expect(errors).toEqual([expect.stringContaining('"type:stage" can only depend on libs tagged with "type:core"')]);
  });

  it('refuses a stage that imports a tool (the generator) outside its tests', async () => {
    const errors = await boundaryErrors(
      "import { stageGenerator } from '@rotating-s3/generators';\nexport const g = stageGenerator;\n",
      inMerge('uses-generator.ts'),
    );
    expect(errors).toHaveLength(1);
  });

  it('accepts a stage that imports the core, and its tests importing the S3 test harness', async () => {
    expect(await boundaryErrors("import { createLogger } from '@rotating-s3/core';\nexport const c = createLogger;\n", inMerge('uses-core.ts'))).toEqual([]);
    expect(await boundaryErrors("import { getTestS3 } from '@rotating-s3/test-harness';\nexport const s = getTestS3;\n", inMerge('harness.spec.ts'))).toEqual(
      [],
    );
  });
});
