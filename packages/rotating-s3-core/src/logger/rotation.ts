/**
 * Rotation: uploads pending fetches to their days' objects, one batch at a time, each batch in the
 * order that keeps "nothing lost, nothing twice" across a kill at any point:
 *
 *   set aside unreadable blocks → write the intent (state.inflight) → upload under the batch's id
 *   → record the ids in the uploaded index → trim the blocks from the log → write the state.
 *
 * The batches and the bookkeeping are pure (plan.ts, plan-upload.ts); every write is an effect run by
 * the executor (effects.ts). An upload is idempotent per upload id and fetch id (s3/daily-object.ts), so
 * a retry after a crash or an ambiguous failure never duplicates a fetch in S3.
 */
import type { StageConfig } from '../config/schema.js';
import type { TornSegment } from '../local/bookended.js';
import { isDiskFull } from '../local/durable-fs.js';
import type { PendingFetch, StageState } from '../local/state.js';
import { dailyObjectKey, uploadIdOf } from '../s3/daily-object.js';
import { localIo, type EffectExecutor } from './effects.js';
import type { OpsLog } from './ops-log.js';
import { planRotation } from './plan.js';
import { applyIntent, applyTrim, applyUploadFailure, applyUploadResult, planTrim, uploadedEntries } from './plan-upload.js';
import type { UploadErrorInfo, UploadReport } from './types.js';
import { uploadErrorInfo } from './upload-error.js';

export interface RotationContext {
  config: StageConfig;
  exec: EffectExecutor;
  ops: OpsLog;
  indexPath: string;
  nowText: () => string;
  deferred: { torn: TornSegment[] };
  /** Makes group-committed appends durable and closes the log handle before anything is read or cut. */
  closeAppender: () => Promise<void>;
}

export interface RotationOutcome {
  uploads: UploadReport[];
  error: UploadErrorInfo | undefined;
}

/**
 * Uploads `which` (one upload per local date and fetchLimit-sized batch, oldest first); stops at the
 * first failure, which is reported, not thrown: the fetches are safe locally and the next call retries.
 * An upload left in flight by an earlier call goes first, as the same batch under the same id.
 */
export async function rotate(ctx: RotationContext, state: StageState, which: PendingFetch[]): Promise<RotationOutcome> {
  await ctx.closeAppender();
  const uploads: UploadReport[] = [];
  const planned = planRotation(state, which, ctx.config.fetchLimit, ctx.config.stage);
  if (planned.inflightDone) state.inflight = null; // its fetches already left the log: that upload completed
  for (const { date, fetches, uploadId } of planned.uploads) {
    try {
      const report = await uploadBatch(ctx, state, date, fetches, uploadId);
      if (report) uploads.push(report);
    } catch (error) {
      // A simulated kill (effects.ts) ends everything here: no bookkeeping after it.
      if (ctx.exec.crashed !== undefined) throw error;
      const info = uploadErrorInfo(error, {
        bucket: ctx.config.bucket ?? '',
        key: dailyObjectKey(ctx.config.prefix, ctx.config.stage, date),
        stage: ctx.config.stage,
        fetches: fetches.length,
      });
      applyUploadFailure(state, info, ctx.nowText());
      ctx.ops.event('error', 'upload_failed', { date, fetches: fetches.length, ...info });
      await ctx.exec.run({ kind: 'write-state', state, why: 'upload-failed' }).catch((again: unknown) => {
        if (ctx.exec.crashed !== undefined) throw again;
      });
      return { uploads, error: info };
    }
  }
  return { uploads, error: undefined };
}

async function uploadBatch(ctx: RotationContext, state: StageState, date: string, group: PendingFetch[], uploadId: string): Promise<UploadReport | undefined> {
  const { config, exec } = ctx;
  // A fetch that can never be uploaded is set aside so it does not block the fetches behind it.
  const { fetches, dead } = await exec.run({ kind: 'set-aside', date, fetches: group, at: ctx.nowText() });
  if (dead.length > 0) {
    await trim(ctx, state, dead);
    group = group.filter((p) => !dead.includes(p));
    if (group.length === 0) {
      state.inflight = null;
      await exec.run({ kind: 'write-state', state, why: 'dead-lettered' });
      return undefined;
    }
    uploadId = uploadIdOf(
      config.stage,
      date,
      group.map((p) => p.fetchId),
    );
  }
  const key = dailyObjectKey(config.prefix, config.stage, date);
  const uploadTimestamp = ctx.nowText();
  if (applyIntent(state, date, group, uploadId)) {
    // On a full disk the upload goes ahead without its intent record: it is what frees the space, and
    // a retry without the record is still safe (the daily object skips fetch ids it already holds).
    await exec.run({ kind: 'write-state', state, why: 'intent', tolerate: 'disk-full' });
  }
  const outcome = await exec.run({
    kind: 'upload',
    key,
    batch: { uploadId, stage: config.stage, timezone: config.timezone, date, uploadTimestamp, fetches },
  });
  const records = group.reduce((n, p) => n + p.records, 0);
  ctx.ops.event('info', outcome.applied ? 'uploaded' : 'upload_already_applied', {
    key,
    date,
    upload_sequence: outcome.uploadSequence,
    upload_id: outcome.uploadId,
    fetches: group.length,
    records,
    conflicts: outcome.conflicts,
  });

  const entries = uploadedEntries(group, outcome);
  let trimmed = false;
  try {
    await exec.run({ kind: 'record-uploaded', key, entries });
  } catch (cause) {
    if (exec.crashed !== undefined || !isDiskFull(cause)) throw exec.crashed ?? localIo(`uploaded to ${key} but cannot record it in ${ctx.indexPath}`, cause);
    // A full disk: free the uploaded blocks' space first, then record them (a crash in between only
    // loses the index entries: a retried --fetch-id is then logged again, and S3 skips it by fetch id).
    await trim(ctx, state, group);
    trimmed = true;
    await exec.run({ kind: 'record-uploaded', key, entries }).catch((again: unknown) => {
      throw exec.crashed ?? localIo(`uploaded to ${key} but cannot record it in ${ctx.indexPath}`, again);
    });
  }
  if (!trimmed) await trim(ctx, state, group);
  const report = applyUploadResult(state, { date, key, group, outcome, at: uploadTimestamp });
  await exec.run({ kind: 'write-state', state, why: 'uploaded' });
  return report;
}

/** Removes blocks from the log, then brings the state (and the deferred torn segments) in line. */
async function trim(ctx: RotationContext, state: StageState, removed: PendingFetch[]): Promise<void> {
  const plan = planTrim(state.pending, removed, ctx.deferred.torn);
  const size = await ctx.exec.run({ kind: 'trim', plan, logSize: state.log.size, deferredTorn: ctx.deferred.torn, at: ctx.nowText() });
  ctx.deferred.torn = applyTrim(state, plan, size, ctx.deferred.torn);
}
