/**
 * `consume --consumer <name> [--state-dir <dir>] [--dry-run]` (SPEC §7): one JSON line on stdout per new
 * record, then — only after stdout was flushed successfully — the run is committed to the processed-ID
 * file. A run that does not exit 0 committed nothing: its output is delivered again by the next run, so a
 * downstream script keeps the output of successful runs only (docs/consumer.md).
 * Warnings (torn local blocks, malformed daily objects, record-id fallback) go to stderr, one line each.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Clock } from '@js-joda/core';
import type { StageConfig } from '../config/schema.js';
import { createConsumer, defaultConsumerStateDir } from '../consumer/consumer.js';
import { ConsumerError } from '../consumer/errors.js';
import { InputError } from '../errors.js';
import type { ConsumedRecord } from '../consumer/types.js';

export interface ConsumeCommandIo {
  /** Program name for warning lines. Default: `rotating-s3`. */
  name?: string;
  /** Captured stdout (tests); default: the process's stdout, written with backpressure and flushed before the commit. */
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

interface ConsumeOptions {
  stage?: string;
  config?: string;
  now?: string;
  consumer: string;
  stateDir?: string;
  dryRun?: boolean;
  since?: string;
  timestampField: string;
  summary?: boolean;
  dedupDays?: string;
  lateUploadDays?: string;
}

/** A whole number of days from a CLI option. */
function days(option: string, value: string): number {
  if (!/^\d{1,5}$/.test(value)) throw new InputError('E_USAGE', `${option} ${JSON.stringify(value)} is not a whole number of days; use e.g. ${option} 8`);
  return Number(value);
}

/** Adds the options and action of `consume` to `cmd` (which already has --stage/--config/--now). */
export function addConsumeCommand(cmd: Command, setup: (opts: ConsumeOptions) => { config: StageConfig; clock: Clock }, io: ConsumeCommandIo): Command {
  return cmd
    .description(
      'the downstream reader: print every record of every fetch this consumer has not processed yet, local or uploaded, as JSON lines; mark them processed when the run succeeds',
    )
    .requiredOption('--consumer <name>', 'name of this consumer; each name keeps its own progress (A-Z a-z 0-9 . _ -)')
    .option(
      '--state-dir <dir>',
      'directory of <stage>_processed_fetch_ids.json and the run files (default: $ROTATING_S3_CONSUMER_STATE_DIR, else <localDir>/consumers)',
    )
    .option('--dry-run', 'print what is new but commit nothing')
    .option('--since <date>', 'ignore fetches of local dates before YYYY-MM-DD (e.g. the first run of a new consumer)')
    .option('--timestamp-field <field>', "record field holding the record's own timestamp", 'timestamp')
    .option('--summary', 'print a JSON summary of the run on stderr at the end')
    .option('--dedup-days <days>', 'days processed fetch ids and record ids are remembered, at least 7 (default 8)')
    .option('--late-upload-days <days>', 'days after its date a daily object is still watched for late uploads, beyond --dedup-days (default 30)')
    .addHelpText(
      'after',
      '\nPrints one JSON line per new record: fetch_id, fetch_number, record_id, record_index, timestamp, date, source, record.\nA run that exits non-zero committed nothing; its records are printed again by the next run.',
    )
    .action(async (opts: ConsumeOptions) => {
      const { config, clock } = setup(opts);
      const name = io.name ?? 'rotating-s3';
      const err = io.stderr ?? ((t: string) => void process.stderr.write(t));
      const out = io.stdout ? syncOutput(io.stdout) : streamOutput(process.stdout);
      const consumer = createConsumer({
        config,
        clock,
        consumer: opts.consumer,
        stateDir: opts.stateDir === undefined ? defaultConsumerStateDir(config) : resolve(opts.stateDir),
        recordTimestampField: opts.timestampField,
        ...(opts.since === undefined ? {} : { since: opts.since }),
        ...(opts.dedupDays === undefined ? {} : { dedupDays: days('--dedup-days', opts.dedupDays) }),
        ...(opts.lateUploadDays === undefined ? {} : { lateUploadDays: days('--late-upload-days', opts.lateUploadDays) }),
        onWarning: (w) => err(`${name}: warning ${w.code}: ${w.message}\n`),
      });
      const summary = await consumer.run((record) => out.write(`${outputLine(record)}\n`), {
        dryRun: opts.dryRun ?? false,
        commitIntervalMs: Number.POSITIVE_INFINITY,
        beforeCommit: () => out.flush(),
      });
      if (opts.summary) {
        const { warnings, ...rest } = summary;
        err(`${JSON.stringify({ summary: { ...rest, warnings: warnings.length } })}\n`);
      }
    });
}

/** Key order of a line: identification first, the record last, as its exact text (never re-serialised). */
function outputLine(r: ConsumedRecord): string {
  const head = JSON.stringify({
    fetch_id: r.fetch_id,
    fetch_number: r.fetch_number,
    record_id: r.record_id,
    record_index: r.record_index,
    timestamp: r.timestamp,
    date: r.date,
    source: r.source,
  });
  return `${head.slice(0, -1)},"record":${r.record_json}}`;
}

interface Output {
  write(line: string): void | Promise<void>;
  /** Resolves once everything written reached the stream; rejects with E_CONSUMER_OUTPUT otherwise. */
  flush(): Promise<void>;
}

function syncOutput(write: (text: string) => void): Output {
  return { write, flush: async () => undefined };
}

/** Batches lines, respects backpressure, and turns a broken pipe into E_CONSUMER_OUTPUT (nothing committed). */
function streamOutput(stream: NodeJS.WriteStream): Output {
  const BATCH = 64 * 1024;
  let buffer: string[] = [];
  let size = 0;
  let failure: Error | undefined;
  stream.on('error', (error) => {
    failure ??= error;
  });
  const fail = (cause: Error) =>
    new ConsumerError(
      'E_CONSUMER_OUTPUT',
      `cannot write to standard output (${(cause as NodeJS.ErrnoException).code ?? cause.message}); nothing was committed, the next run prints these records again`,
      { cause },
    );
  const drain = async (): Promise<void> => {
    if (failure) throw fail(failure);
    if (size === 0) return;
    const text = buffer.join('');
    buffer = [];
    size = 0;
    if (!stream.write(text)) {
      await new Promise<void>((done, reject) => {
        const onDrain = () => {
          stream.off('error', onError);
          done();
        };
        const onError = (error: Error) => {
          stream.off('drain', onDrain);
          reject(fail(error));
        };
        stream.once('drain', onDrain);
        stream.once('error', onError);
      });
    }
  };
  return {
    write(line) {
      buffer.push(line);
      size += line.length;
      return size >= BATCH ? drain() : undefined;
    },
    async flush() {
      await drain();
      // The write callback fires once the data was handed to the OS (or failed).
      await new Promise<void>((done, reject) => stream.write('', (error) => (error ? reject(fail(error)) : done())));
      if (failure) throw fail(failure);
    },
  };
}
