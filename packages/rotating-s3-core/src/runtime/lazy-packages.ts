/**
 * Packages with load-time side effects, loaded on first use. proper-lockfile installs exit and signal
 * handlers and graceful-fs patches `fs` and caches `process.cwd()` when they load; write-file-atomic
 * brings signal-exit too. Loaded lazily, they cost nothing to commands that do not need them, and they
 * stay out of the CLI's start-up snapshot, which cannot hold live handles (scripts/bundle-cli.mjs).
 * In the CLI bundles proper-lockfile gets node:fs for graceful-fs and write-file-atomic's signal-exit 4
 * for signal-exit 3, which makes this load cheap there (scripts/bundle-cli.mjs says why that is safe).
 */
import type Lockfile from 'proper-lockfile';
import type writeFileAtomicFn from 'write-file-atomic';

export async function loadLockfile(): Promise<typeof Lockfile> {
  return (await import('proper-lockfile')).default;
}

export async function loadWriteFileAtomic(): Promise<typeof writeFileAtomicFn> {
  return (await import('write-file-atomic')).default;
}
