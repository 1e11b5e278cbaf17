import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './load.js';

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs3-config-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(content));
  return dir;
}

describe('maxPendingAge setting', () => {
  it('is off by default', () => {
    const cwd = dirWith({ 'c.json': { stage: 'merge' } });
    expect(resolveConfig({ configFile: 'c.json', cwd, env: {} }).maxPendingAge).toBeUndefined();
  });

  it('comes from the config file and is overridden by ROTATING_S3_MAX_PENDING_AGE, where "off" turns it off', () => {
    const cwd = dirWith({ 'c.json': { stage: 'merge', maxPendingAge: '15m' } });
    expect(resolveConfig({ configFile: 'c.json', cwd, env: {} }).maxPendingAge).toBe('15m');
    expect(resolveConfig({ configFile: 'c.json', cwd, env: { ROTATING_S3_MAX_PENDING_AGE: '2h' } }).maxPendingAge).toBe('2h');
    expect(resolveConfig({ configFile: 'c.json', cwd, env: { ROTATING_S3_MAX_PENDING_AGE: 'off' } }).maxPendingAge).toBeUndefined();
  });

  it.each([
    [
      'config file',
      { stage: 'merge', maxPendingAge: '15 minutes' },
      {},
      /config file .*"maxPendingAge" must be a whole number and a unit s, m, h or d.*\(got "15 minutes"\)/,
    ],
    ['config file', { stage: 'merge', maxPendingAge: 900 }, {}, /"maxPendingAge" must be a string \(got 900\)/],
    [
      'environment',
      { stage: 'merge' },
      { ROTATING_S3_MAX_PENDING_AGE: '0s' },
      /ROTATING_S3_MAX_PENDING_AGE="0s": must be a whole number and a unit .*\(field "maxPendingAge"\)/,
    ],
    ['environment', { stage: 'merge' }, { ROTATING_S3_MAX_PENDING_AGE: '30d' }, /ROTATING_S3_MAX_PENDING_AGE="30d": .*from 1s to 7d/],
  ])('refuses a bad value from the %s, naming the field and the value', (_layer, file, env, message) => {
    const cwd = dirWith({ 'c.json': file });
    expect(() => resolveConfig({ configFile: 'c.json', cwd, env })).toThrow(message);
  });
});
