/**
 * The effect executor on its own: the hook sees every effect in order, a simulated kill refuses every
 * later write (nothing is cleaned up), and a checkpoint's failure is tolerated only where the protocol
 * says the state is derivable from the log again.
 */
import { describe, expect, it } from 'vitest';
import type { DurableFs } from '../local/durable-fs.js';
import { emptyState } from '../local/state.js';
import type { DailyObjectStore } from '../s3/daily-store.js';
import { EffectExecutor, type BeforeEffect, type Effect, type ExecutorContext } from './effects.js';

function setup(beforeEffect?: BeforeEffect, writeError?: NodeJS.ErrnoException) {
  const done: string[] = [];
  const warnings: string[] = [];
  const fs: DurableFs = {
    append: async () => void done.push('fs.append'),
    writeAtomic: async (path) => {
      if (writeError) throw writeError;
      done.push(`writeAtomic ${path}`);
    },
    truncate: async () => void done.push('truncate'),
    ensureDir: async () => undefined,
  };
  const ctx: ExecutorContext = {
    fs,
    paths: { log: '/nonexistent/rs3-effects/log', quarantine: '/nonexistent/rs3-effects/q' },
    statePath: '/nonexistent/rs3-effects/state.json',
    indexPath: '/nonexistent/rs3-effects/index.jsonl',
    deadLetterPath: '/nonexistent/rs3-effects/dead.log',
    ops: { event: (_level, event) => void warnings.push(event) },
    appendBlock: async (block) => void done.push(`append ${block}`),
    closeAppender: async () => undefined,
    deferredTorn: () => [],
    getStore: async () => ({}) as DailyObjectStore,
    beforeEffect,
  };
  return { exec: new EffectExecutor(ctx), done, warnings };
}

const append = (fetchId: string): Effect => ({ kind: 'append', fetchId, block: fetchId, bytes: fetchId.length });

describe('EffectExecutor', () => {
  it('calls the hook before each effect with its index, in order', async () => {
    const seen: string[] = [];
    const { exec, done } = setup((effect, index) => void seen.push(`${index}:${effect.kind}`));
    await exec.run(append('a'));
    await exec.run({ kind: 'cut-partial', size: 0 });
    await exec.run(append('b'));
    expect(seen).toEqual(['0:append', '1:cut-partial', '2:append']);
    expect(done).toEqual(['append a', 'truncate', 'append b']);
  });

  it('after a simulated kill refuses every later effect with the same error, writing nothing', async () => {
    const kill = new Error('killed');
    const { exec, done } = setup((_effect, index) => {
      if (index === 1) throw kill;
    });
    await exec.run(append('a'));
    await expect(exec.run(append('b'))).rejects.toBe(kill);
    await expect(exec.run({ kind: 'write-state', state: emptyState('s'), why: 'release', tolerate: 'any' })).rejects.toBe(kill);
    await expect(exec.run({ kind: 'cut-partial', size: 0 })).rejects.toBe(kill);
    expect(exec.crashed).toBe(kill);
    expect(done).toEqual(['append a']);
  });

  const enospc = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  const eacces = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  const cases = [
    { name: 'a checkpoint that may fail (derivable from the log) only warns', tolerate: 'any' as const, error: eacces, throws: false },
    { name: 'an intent record on a full disk only warns (the upload frees the space)', tolerate: 'disk-full' as const, error: enospc, throws: false },
    { name: 'an intent record that fails otherwise stops the upload', tolerate: 'disk-full' as const, error: eacces, throws: true },
    { name: 'the state after an upload must be written', tolerate: undefined, error: enospc, throws: true },
  ];
  it.each(cases)('$name', async ({ tolerate, error, throws }) => {
    const { exec, warnings } = setup(undefined, error);
    const run = exec.run({ kind: 'write-state', state: emptyState('s'), why: 'uploaded', ...(tolerate ? { tolerate } : {}) });
    if (throws) await expect(run).rejects.toThrow(/cannot write the state file .*state\.json: E(NOSPC|ACCES)/);
    else await expect(run).resolves.toBeUndefined();
    expect(warnings).toEqual(throws ? [] : ['checkpoint_failed']);
  });
});
