/**
 * The operational log: structured JSON lines about rotations, uploads, retries, midnight transitions and
 * repairs — separate from the data file. Every event is appended to `<localDir>/<stage>_events.jsonl`
 * (an audit trail for people and alerting); events at or above `ROTATING_S3_LOG_LEVEL` (default `warn`)
 * are also shown on stderr, one line each in the CLI's error format
 * (`<program>: error upload_failed E_S3_NO_BUCKET: upload to daily object … failed …`), which keeps stdout
 * free for the command's JSON result and stderr readable; the JSON form is only in the events file.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { maskUrlCredentials } from '../s3/endpoint-text.js';
import { wallClockIso } from '../time/clock.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface OpsLog {
  event(level: Level, event: string, fields?: Record<string, unknown>): void;
}

export function eventsPath(localDir: string, stage: string): string {
  return join(localDir, `${stage}_events.jsonl`);
}

/**
 * The stderr line of an event: `<program>: <level> <event> [<stage>] <code>: <message>` (the stage only
 * when the program is not the stage's own bin; without a message, the event's fields as `name=value`).
 */
export function formatEventLine(program: string, level: Level, stage: string, event: string, fields: Record<string, unknown> = {}): string {
  const { code, message, ...rest } = fields;
  const head = [`${program}: ${level} ${event}`, program === `${stage}_rotating_s3` ? '' : `[${stage}]`, typeof code === 'string' ? code : '']
    .filter(Boolean)
    .join(' ');
  const body =
    typeof message === 'string'
      ? message
      : Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
  return `${head}: ${body.replace(/\s*\n\s*/g, ' ')}\n`;
}

/** `program`: the name at the start of each stderr line (the CLI passes its bin's name). */
export function createOpsLog(
  localDir: string,
  stage: string,
  env = process.env,
  stderr: (line: string) => void = (l) => process.stderr.write(l),
  program = 'rotating-s3',
): OpsLog {
  const threshold = RANK[(env['ROTATING_S3_LOG_LEVEL'] as Level) ?? 'warn'] ?? RANK.warn;
  const file = eventsPath(localDir, stage);
  return {
    event(level, event, fields = {}) {
      const line = maskUrlCredentials(`${JSON.stringify({ time: wallClockIso(), level, stage, event, ...fields })}\n`);
      if (RANK[level] >= RANK.info) {
        try {
          appendFileSync(file, line, { mode: 0o600 });
        } catch {
          // The events file is diagnostics only; a failure here must not fail a fetch.
        }
      }
      if (RANK[level] >= threshold) stderr(formatEventLine(program, level, stage, event, fields));
    },
  };
}

/** Discards everything (tests, library users who bring their own logging). */
export const silentOpsLog: OpsLog = { event() {} };
