/**
 * Packages with load-time side effects, loaded on first use. proper-lockfile installs exit and signal
 * handlers and graceful-fs patches `fs` and caches `process.cwd()` when they load; write-file-atomic
 * brings signal-exit too. Loaded lazily, they cost nothing to commands that do not need them (in the
 * CLI bundle each is a chunk of its own, required on first use).
 */
import type Lockfile from 'proper-lockfile';
import type writeFileAtomicFn from 'write-file-atomic';

export async function loadLockfile(): Promise<typeof Lockfile> {
  return (await import('proper-lockfile')).default;
}

export async function loadWriteFileAtomic(): Promise<typeof writeFileAtomicFn> {
  return (await import('write-file-atomic')).default;
}
