/**
 * The session of an in-process logger: the stage lock, the reconciled state held between calls
 * (`holdLockMs`), the open log handle and group commit (`syncEveryMs`). Calls run one at a time; a call
 * that fails drops the session (the next call reconciles from disk); a lock taken over by another
 * process ends the logger (local/lock.ts).
 */
import type { DurableAppender, DurableFs } from '../local/durable-fs.js';
import { acquireStageLock, type StageLockRelease } from '../local/lock.js';
import type { StageState } from '../local/state.js';
import { describeError } from '../errors.js';
import { localIo } from './effects.js';
import type { OpsLog } from './ops-log.js';

interface Held {
  state: StageState;
  release: () => Promise<void>;
  /** The state changed since the last checkpoint (the log is the record meanwhile). */
  dirty: boolean;
  timer?: NodeJS.Timeout;
  appender?: DurableAppender;
  syncTimer?: NodeJS.Timeout;
}

export interface SessionOptions {
  localDir: string;
  stage: string;
  logPath: string;
  fs: DurableFs;
  ops: OpsLog;
  lock?: ((localDir: string, stage: string) => Promise<() => Promise<void>>) | undefined;
  holdLockMs: number;
  syncEveryMs: number;
  /** Loads the state and repairs it against the log (logger/reconcile.ts); the lock is held. */
  reconcile: () => Promise<StageState>;
  /** Writes the checkpoint on release (through the executor). */
  checkpoint: (state: StageState) => Promise<void>;
  /** True once a simulated kill happened (effects.ts): a dead session writes nothing more. */
  crashed: () => boolean;
}

export class StageSession {
  private held: Held | undefined;
  /** Set once the stage lock was taken over while held: every later call is refused with it. */
  private lockLost: Error | undefined;
  /** Serialises calls within this process. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: SessionOptions) {}

  /** The state of the held session, if any (status reads it instead of the file). */
  get state(): StageState | undefined {
    return this.held?.state;
  }

  /** Runs `fn` holding the stage lock with a reconciled state, one call at a time. */
  run<T>(fn: (state: StageState) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      // A lock lost while held (another process took it over) ends this logger: see local/lock.ts.
      if (this.lockLost) throw this.lockLost;
      const lost = (this.held?.release as StageLockRelease | undefined)?.lockLost?.();
      if (lost) {
        this.lockLost = lost;
        await this.abandon();
        throw lost;
      }
      if (!this.held) {
        await this.o.fs.ensureDir(this.o.localDir).catch((cause) => {
          throw localIo(`cannot create the local directory ${this.o.localDir}`, cause);
        });
        const release = await (this.o.lock ?? acquireStageLock)(this.o.localDir, this.o.stage);
        try {
          this.held = { state: await this.o.reconcile(), release, dirty: false };
        } catch (error) {
          await release().catch(() => undefined);
          throw error;
        }
      }
      const held = this.held;
      // The idle timer keeps running: if it fires during a long call, the session ends after this call
      // (the end is queued behind it), and `refresh()` below is then harmless.
      try {
        return await fn(held.state);
      } catch (error) {
        // The in-memory state may be half-updated: drop it; the next call reconciles from the log.
        await this.abandon();
        throw error;
      } finally {
        if (this.o.holdLockMs <= 0) await this.end();
        else if (this.held === held) {
          // One timer per session, pushed back by each call (refresh() costs less than a new timer).
          if (held.timer) held.timer.refresh();
          else {
            held.timer = setTimeout(() => void this.enqueueEnd().catch(() => undefined), this.o.holdLockMs);
            held.timer.unref();
          }
        }
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The block is the record; the checkpoint follows on release. */
  markDirty(): void {
    if (this.held) this.held.dirty = true;
  }

  /** Checkpoints (when dirty) and releases the lock once the calls queued before it are done. */
  enqueueEnd(): Promise<void> {
    const next = this.queue.then(() => this.end());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async end(): Promise<void> {
    const held = this.held;
    if (!held) return;
    if (this.o.crashed()) return this.abandon();
    this.held = undefined;
    clearTimeout(held.timer);
    try {
      if (held.appender) await flushAndClose(held, held.appender);
      if (held.dirty) await this.o.checkpoint(held.state);
    } finally {
      await held.release().catch(() => undefined);
    }
  }

  /** Drops the session without a checkpoint (after a failed call); the next call reconciles from disk. */
  async abandon(): Promise<void> {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    clearTimeout(held.timer);
    if (held.appender) await flushAndClose(held, held.appender);
    await held.release().catch(() => undefined);
  }

  /** Appends a block: through the session's open file when holding the stage, else open-append-close. */
  async appendBlock(block: string): Promise<void> {
    const held = this.held;
    if (this.o.holdLockMs > 0 && held && this.o.fs.openAppender) {
      held.appender ??= await this.o.fs.openAppender(this.o.logPath);
      if (this.o.syncEveryMs <= 0) {
        await held.appender.append(block);
        return;
      }
      await held.appender.write(block);
      if (!held.syncTimer) {
        const appender = held.appender;
        held.syncTimer = setTimeout(() => {
          held.syncTimer = undefined;
          appender.sync().catch((error: unknown) => this.o.ops.event('error', 'sync_failed', { file: this.o.logPath, message: describeError(error) }));
        }, this.o.syncEveryMs);
        held.syncTimer.unref();
      }
    } else {
      await this.o.fs.append(this.o.logPath, block);
    }
  }

  /** Called before the log is truncated or replaced, and before an upload: makes group-committed writes durable. */
  async closeAppender(): Promise<void> {
    const held = this.held;
    const appender = held?.appender;
    if (!held || !appender) return;
    held.appender = undefined;
    await flushAndClose(held, appender);
  }
}

/** Makes group-committed writes durable (a pending sync runs now), then closes the handle. */
async function flushAndClose(held: { syncTimer?: NodeJS.Timeout }, appender: DurableAppender): Promise<void> {
  if (held.syncTimer) {
    clearTimeout(held.syncTimer);
    held.syncTimer = undefined;
  }
  await appender.sync().catch(() => undefined);
  await appender.close().catch(() => undefined);
}
