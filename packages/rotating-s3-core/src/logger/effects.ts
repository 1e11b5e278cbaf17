/**
 * The writer's effects and the one executor that performs them. Every write the stage logger makes to
 * the local files or to S3 is one `Effect`, decided by the planning functions (plan*.ts) and run here in
 * the order the protocol of stage-logger.ts documents. The executor owns the crash points:
 *
 * - before every effect it calls the `beforeEffect` hook (a test seam: the crash matrix throws from it
 *   to simulate a kill between any two effects), and the TEST-ONLY named steps of local/crash-point.ts;
 * - once the hook has thrown, it refuses every later effect with the same error, so a simulated crash
 *   leaves the disk exactly as a kill would: no clean-up, no checkpoint, no truncation.
 */
import type { TornSegment } from '../local/bookended.js';
import { crashPoint, type CrashStep } from '../local/crash-point.js';
import { readUploadable } from '../local/dead-letter.js';
import { isDiskFull, type DurableFs } from '../local/durable-fs.js';
import { emptyLogIntoQuarantine, fileIdentity, quarantineSegments, removeRanges, type LogFilePaths } from '../local/log-file.js';
import { writeState, type PendingFetch, type StageState } from '../local/state.js';
import { appendUploaded, pruneUploaded, type UploadedFetch } from '../local/uploaded-index.js';
import type { FetchEntry, UploadBatch } from '../s3/daily-object.js';
import type { AppendOutcome, DailyObjectStore } from '../s3/daily-store.js';
import { describeError, LocalIoError } from '../errors.js';
import type { OpsLog } from './ops-log.js';
import type { TrimPlan } from './plan-upload.js';

/** Why the state is written; also names the step in the crash matrix. */
export type CheckpointReason = 'logged' | 'repaired' | 'intent' | 'uploaded' | 'upload-failed' | 'dead-lettered' | 'release';

export type Effect =
  /** Append a fetch's whole block to the log and fsync it (group commit: the fsync follows within `syncEveryMs`). */
  | { kind: 'append'; fetchId: string; block: string; bytes: number }
  /** Cut a partial block off the log after a failed append. */
  | { kind: 'cut-partial'; size: number }
  /**
   * Write the state atomically with the log's current identity. `tolerate`: a failure is only a warning
   * (`any`), or only on a full disk (`disk-full`), because the state is derivable from the log again.
   */
  | { kind: 'write-state'; state: StageState; why: CheckpointReason; tolerate?: 'any' | 'disk-full' }
  /** Move torn bytes from the log to the quarantine file (copy + fsync first, then cut). */
  | { kind: 'quarantine'; torn: TornSegment[]; logSize: number; at: string }
  /** Drop uploaded-index lines older than `oldestDate` (at a day change). Best effort. */
  | { kind: 'prune-index'; oldestDate: string }
  /** Read a batch's blocks; a block that can never be uploaded goes to the dead-letter file. */
  | { kind: 'set-aside'; date: string; fetches: PendingFetch[]; at: string }
  /** Append the batch as one upload (under its id) to the daily object: idempotent per upload id and fetch id. */
  | { kind: 'upload'; key: string; batch: UploadBatch }
  /** Record the fetches S3 confirmed in the uploaded index (fsync). */
  | { kind: 'record-uploaded'; key: string; entries: UploadedFetch[] }
  /** Remove blocks from the log (truncate, rewrite, or empty the log into the quarantine). */
  | { kind: 'trim'; plan: TrimPlan; logSize: number; deferredTorn: TornSegment[]; at: string };

export type EffectKind = Effect['kind'];

interface Results {
  append: void;
  'cut-partial': void;
  'write-state': void;
  quarantine: number;
  'prune-index': void;
  'set-aside': { fetches: FetchEntry[]; dead: PendingFetch[] };
  upload: AppendOutcome;
  'record-uploaded': void;
  trim: number;
}

/** Called before each effect with its 0-based index in this logger's life; throwing simulates a kill there. */
export type BeforeEffect = (effect: Effect, index: number) => void;

/** The TEST-ONLY named crash steps (crash.e2e.spec.ts), placed around the effects they name. */
function namedSteps(effect: Effect): { before?: CrashStep; after?: CrashStep } {
  switch (effect.kind) {
    case 'append':
      return { before: 'log:before-append', after: 'log:after-append' };
    case 'write-state':
      return effect.why === 'logged' ? { after: 'log:after-state' } : {};
    case 'upload':
      return { before: 'rotate:before-upload', after: 'rotate:after-upload' };
    case 'record-uploaded':
      return { after: 'rotate:after-index' };
    case 'trim':
      return { after: 'rotate:after-trim' };
    default:
      return {};
  }
}

export interface ExecutorContext {
  fs: DurableFs;
  paths: LogFilePaths;
  statePath: string;
  indexPath: string;
  deadLetterPath: string;
  ops: OpsLog;
  /** Appends through the session's open file when it holds one (group commit), else open-append-close. */
  appendBlock: (block: string) => Promise<void>;
  /** Closes the session's open log handle: the log is about to be truncated or replaced. */
  closeAppender: () => Promise<void>;
  /** Torn segments a full disk kept in the log: while there are any, the state is saved with inode 0. */
  deferredTorn: () => readonly TornSegment[];
  getStore: () => Promise<DailyObjectStore>;
  beforeEffect?: BeforeEffect | undefined;
}

export class EffectExecutor {
  private count = 0;
  /** The error the hook threw (a simulated kill): every later effect is refused with it. */
  crashed: unknown = undefined;

  constructor(private readonly ctx: ExecutorContext) {}

  async run<E extends Effect>(effect: E): Promise<Results[E['kind']]> {
    if (this.crashed !== undefined) throw this.crashed;
    const steps = namedSteps(effect);
    if (steps.before) crashPoint(steps.before);
    try {
      this.ctx.beforeEffect?.(effect, this.count++);
    } catch (error) {
      this.crashed = error;
      throw error;
    }
    const result = (await this.perform(effect)) as Results[E['kind']];
    if (steps.after) crashPoint(steps.after);
    return result;
  }

  private async perform(effect: Effect): Promise<unknown> {
    const { ctx } = this;
    switch (effect.kind) {
      case 'append':
        return ctx.appendBlock(effect.block);
      case 'cut-partial':
        return ctx.fs.truncate(ctx.paths.log, effect.size);
      case 'write-state':
        return this.writeState(effect);
      case 'quarantine':
        await ctx.closeAppender();
        return quarantineSegments(ctx.fs, ctx.paths, effect.torn, effect.logSize, effect.at);
      case 'prune-index':
        return pruneUploaded(ctx.fs, ctx.indexPath, effect.oldestDate).catch(() => undefined);
      case 'set-aside':
        return readUploadable(effect.fetches, {
          fs: ctx.fs,
          log: ctx.paths.log,
          deadLetter: ctx.deadLetterPath,
          at: effect.at,
          onDeadLetter: (fields) => ctx.ops.event('error', 'dead_lettered', { ...fields, date: effect.date }),
        }).catch((cause: unknown) => {
          throw localIo(`cannot set an unreadable fetch aside in ${ctx.deadLetterPath}`, cause);
        });
      case 'upload':
        return (await ctx.getStore()).appendUpload(effect.key, effect.batch);
      case 'record-uploaded':
        return appendUploaded(ctx.fs, ctx.indexPath, effect.entries);
      case 'trim':
        return this.trim(effect);
    }
  }

  private async writeState(effect: Extract<Effect, { kind: 'write-state' }>): Promise<void> {
    const { ctx } = this;
    try {
      const log = await fileIdentity(ctx.paths.log);
      // Inode 0 while torn bytes wait for the quarantine: the next process then rescans the log.
      effect.state.log = { size: log?.size ?? 0, ino: ctx.deferredTorn().length > 0 ? 0 : (log?.ino ?? 0) };
      await writeState(ctx.fs, ctx.statePath, effect.state).catch((cause: unknown) => {
        throw localIo(`cannot write the state file ${ctx.statePath}`, cause);
      });
    } catch (error) {
      if (effect.tolerate === 'any' || (effect.tolerate === 'disk-full' && isDiskFull(error))) {
        ctx.ops.event('warn', 'checkpoint_failed', { file: ctx.statePath, message: describeError(error) });
        return;
      }
      throw error;
    }
  }

  private async trim(effect: Extract<Effect, { kind: 'trim' }>): Promise<number> {
    const { ctx } = this;
    await ctx.closeAppender();
    try {
      switch (effect.plan.mode) {
        case 'empty-into-quarantine':
          // Every pending fetch is uploaded; only torn bytes a full disk kept from the quarantine are left.
          for (const { segment, bytes } of await emptyLogIntoQuarantine(ctx.fs, ctx.paths, effect.deferredTorn, effect.at)) {
            ctx.ops.event('warn', 'quarantined', { file: ctx.paths.quarantine, bytes, reason: segment.reason });
          }
          return 0;
        case 'truncate':
          await ctx.fs.truncate(ctx.paths.log, 0);
          return 0;
        case 'rewrite':
          return await removeRanges(ctx.fs, ctx.paths.log, effect.plan.removed, effect.logSize);
      }
    } catch (cause) {
      throw localIo(`uploaded, but cannot remove the uploaded fetches from ${ctx.paths.log} (they are skipped as duplicates on the next upload)`, cause);
    }
  }
}

/** A local I/O failure as the one-line coded error users read: what failed, the errno, the fix. */
export function localIo(what: string, cause: unknown): LocalIoError {
  const code = (cause as NodeJS.ErrnoException)?.code;
  const fix =
    code === 'ENOSPC'
      ? 'free disk space'
      : code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
        ? 'make the local directory writable (ROTATING_S3_LOCAL_DIR)'
        : 'check the local directory';
  return new LocalIoError(`${what}: ${code ?? describeError(cause)}; ${fix}`, { cause });
}
