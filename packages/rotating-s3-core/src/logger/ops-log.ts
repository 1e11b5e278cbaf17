/**
 * The operational log: structured JSON lines about rotations, uploads, retries, midnight transitions and
 * repairs — separate from the data file. Every event is appended to `<localDir>/<stage>_events.jsonl`
 * (an audit trail for people and alerting); events at or above `ROTATING_S3_LOG_LEVEL` (default `warn`)
 * also go to stderr, which keeps stdout free for the command's JSON result.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface OpsLog {
  event(level: Level, event: string, fields?: Record<string, unknown>): void;
}

export function eventsPath(localDir: string, stage: string): string {
  return join(localDir, `${stage}_events.jsonl`);
}

export function createOpsLog(localDir: string, stage: string, env = process.env, stderr: (line: string) => void = (l) => process.stderr.write(l)): OpsLog {
  const threshold = RANK[(env['ROTATING_S3_LOG_LEVEL'] as Level) ?? 'warn'] ?? RANK.warn;
  const file = eventsPath(localDir, stage);
  return {
    event(level, event, fields = {}) {
      const line = `${JSON.stringify({ time: new Date().toISOString(), level, stage, event, ...fields })}\n`;
      if (RANK[level] >= RANK.info) {
        try {
          appendFileSync(file, line, { mode: 0o600 });
        } catch {
          // The events file is diagnostics only; a failure here must not fail a fetch.
        }
      }
      if (RANK[level] >= threshold) stderr(line);
    },
  };
}

/** Discards everything (tests, library users who bring their own logging). */
export const silentOpsLog: OpsLog = { event() {} };
