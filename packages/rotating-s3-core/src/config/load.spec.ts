import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './load.js';

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs3-config-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const stagesFile = { stages: [{ stage: 'merge', bucket: 'stage-bucket', fetchLimit: 25, timezone: 'America/New_York', recordsPath: '/matches', recordType: 'match' }] };

describe('resolveConfig', () => {
  it('applies defaults < stage config < --config < environment', () => {
    const cwd = dirWith({ 'stages.config.json': stagesFile, 'c.json': { stage: 'merge', fetchLimit: 10, prefix: '/logs/merge/' } });
    const config = resolveConfig({ stage: 'merge', configFile: 'c.json', cwd, env: { ROTATING_S3_FETCH_LIMIT: '7' } });
    expect(config).toMatchObject({ stage: 'merge', bucket: 'stage-bucket', fetchLimit: 7, prefix: 'logs/merge', timezone: 'America/New_York', recordsPath: '/matches', forcePathStyle: false });
    expect(config.localDir).toBe(join(cwd, 'logs', 'merge'));
  });

  it('takes the stage from a --config file alone', () => {
    const cwd = dirWith({ 'c.json': { stage: 'solo', bucket: 'b-solo' } });
    expect(resolveConfig({ configFile: 'c.json', cwd, env: {} })).toMatchObject({ stage: 'solo', bucket: 'b-solo', fetchLimit: 25, timezone: 'UTC' });
  });

  it('refuses unknown fields in a config file, naming every one and the allowed fields', () => {
    const cwd = dirWith({ 'c.json': { stage: 'merge', bukket: 'x', fetchlimit: 3 } });
    expect(() => resolveConfig({ configFile: 'c.json', cwd, env: {} })).toThrow(/unknown field\(s\) "bukket", "fetchlimit"; allowed: stage, bucket, prefix, localDir, fetchLimit,/);
    const stages = dirWith({ 'stages.config.json': { stages: [], version: 2 } });
    expect(() => resolveConfig({ stage: 'merge', cwd: stages, env: {} })).toThrow(/unknown field\(s\) "version"; allowed: stages$/);
  });

  it('reports every wrong field of a config file with its path, one message each', () => {
    const cwd = dirWith({ 'c.json': { stage: 'merge', fetchLimit: '10', forcePathStyle: 'yes', prefix: 'a/../b' } });
    const error = (() => {
      try {
        resolveConfig({ configFile: 'c.json', cwd, env: {} });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(error.split('; ')).toEqual([
      `config file ${join(cwd, 'c.json')}: "prefix" must not contain "." or ".." segments (got "a/../b")`,
      `config file ${join(cwd, 'c.json')}: "fetchLimit" must be a number (got "10")`,
      `config file ${join(cwd, 'c.json')}: "forcePathStyle" must be true or false (got "yes")`,
    ]);
  });

  it('refuses a config file without a stage or that is not an object, saying so', () => {
    const cwd = dirWith({ 'none.json': { bucket: 'abc' }, 'array.json': [], 'text.json': '"merge"' });
    expect(() => resolveConfig({ configFile: 'none.json', cwd, env: {} })).toThrow(/none\.json: "stage" is required$/);
    expect(() => resolveConfig({ configFile: 'array.json', cwd, env: {} })).toThrow(/array\.json: must be a JSON object such as \{"stage": "merge", \.\.\.\} \(got an array\)$/);
    expect(() => resolveConfig({ configFile: 'text.json', cwd, env: {} })).toThrow(/text\.json: must be a JSON object .* \(got "merge"\)$/);
  });

  it('names the variable and value of a bad environment override', () => {
    const cwd = dirWith({ 'stages.config.json': stagesFile });
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_FETCH_LIMIT: 'ten' } })).toThrow(/ROTATING_S3_FETCH_LIMIT="ten" is not a whole number/);
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_FETCH_LIMIT: '0' } })).toThrow(/fetchLimit" must be at least 1/);
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_TIMEZONE: 'Nowhere/Land' } })).toThrow(/unknown timezone "Nowhere\/Land"/);
    expect(() => resolveConfig({ stage: 'merge', cwd, env: { ROTATING_S3_FORCE_PATH_STYLE: 'yes' } })).toThrow(/must be "true" or "false"/);
  });

  it('refuses stage names that could escape a path or key', () => {
    for (const bad of ['../etc', 'a/b', 'Merge', '1abc', '', 'a'.repeat(64)]) {
      expect(() => resolveConfig({ stage: bad, env: {} })).toThrow(/invalid stage name/);
    }
  });

  it('refuses a malformed recordsPath and a prefix with dot segments', () => {
    const cwd = dirWith({ 'a.json': { stage: 'm', recordsPath: 'matches' }, 'b.json': { stage: 'm', prefix: 'logs/../x' } });
    expect(() => resolveConfig({ configFile: 'a.json', cwd, env: {} })).toThrow(/JSON Pointer/);
    expect(() => resolveConfig({ configFile: 'b.json', cwd, env: {} })).toThrow(/"\." or "\.\." segments/);
  });

  it('explains how to configure a stage that is nowhere configured', () => {
    const cwd = dirWith({ 'stages.config.json': stagesFile });
    expect(() => resolveConfig({ stage: 'ghost', cwd, env: {} })).toThrow(/stage "ghost" is not configured.*generate:stage/);
  });
});
