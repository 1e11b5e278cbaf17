/**
 * The CLI (SPEC §7): `rotating-s3 <command> --stage <name>` and each stage's `<stage>_rotating_s3 <command>`.
 * stdout carries only results (JSON lines, or the status table); problems are one line on stderr.
 * Exit codes: 0 done, 2 bad usage or input (nothing was written), 1 any other failure.
 * The AWS SDK is loaded only by commands that talk to S3, so `log` without a rotation starts fast.
 */
import { maskUrlCredentials } from '../s3/endpoint-text.js';
import { Command, CommanderError, Option } from 'commander';
import { unknownVariables } from '../config/env.js';
import { resolveConfig } from '../config/load.js';
import type { StageConfig, StageConfigInput } from '../config/schema.js';
import { InputError, RotatingS3Error } from '../errors.js';
import { createOpsLog } from '../logger/ops-log.js';
import { createStageLogger } from '../logger/stage-logger.js';
import { fixedClock, systemClock } from '../time/clock.js';
import { DURATION_HINT, parseDuration } from '../time/duration.js';
import { addConsumeCommand } from './consume-command.js';
import { readPayloadText } from './payload.js';
import { renderDoctor, renderStatus } from './render.js';

/** The metrics file of a command: `--metrics-file`, else ROTATING_S3_METRICS_FILE (docs/monitoring.md). */
const metricsTarget = (option: string | undefined): string | undefined => option ?? (process.env['ROTATING_S3_METRICS_FILE'] || undefined);
const METRICS_FILE_HELP =
  'after the command, write Prometheus metrics for the node_exporter textfile collector to this file or directory (default: $ROTATING_S3_METRICS_FILE)';

export interface CliOptions {
  /** Program name in help and errors. Default: `rotating-s3`. */
  name?: string;
  /** The stage's generated config (stage bins pass theirs; `--stage` is then optional). */
  stageConfig?: StageConfigInput;
  /** Path of `stageConfig`'s file, named in its validation errors. */
  stageConfigSource?: string;
  /** Where output goes (tests capture it). Default: the process streams. */
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

interface CommonOptions {
  stage?: string;
  config?: string;
  now?: string;
}

/** Runs the CLI and resolves to the exit code; never throws for expected errors. */
export async function runCli(argv: string[], options: CliOptions = {}): Promise<number> {
  const name = options.name ?? 'rotating-s3';
  if (!options.stdout) {
    // A reader that stops early (`| head`) is not an error of ours.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const out = options.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = options.stderr ?? ((t: string) => void process.stderr.write(t));
  // The SDK's Node-20 deprecation notice would print on every command; `doctor` reports it once instead.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  for (const { name: variable, suggestion } of unknownVariables(process.env)) {
    const meant = suggestion ? `did you mean ${suggestion}? ` : '';
    err(`${name}: warning W_ENV_UNKNOWN: ${variable} is not a rotating-s3 variable; ${meant}it is ignored (docs/configuration.md lists them)\n`);
  }

  let exitCode = 0;
  const program = buildProgram(name, options, out, err, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, `help <command>`
      if (error.code === 'commander.help') {
        // No command given: commander would dump the usage on stderr; the contract is one line and exit 2.
        const commands = program.commands.map((c) => c.name()).join(', ');
        err(`${name}: error E_USAGE: no command given; choose one of ${commands} (run '${name} --help' for usage)\n`);
        return 2;
      }
      if (error.code === 'commander.executeSubCommandAsync') return 1;
      // outputError already printed the one-line E_USAGE message; usage errors are exit 2 by contract.
      return 2;
    }
    if (error instanceof RotatingS3Error) {
      err(`${name}: error ${error.code}: ${maskUrlCredentials(error.message)}\n`);
      return error.exitCode;
    }
    err(`${name}: unexpected internal error (please report it):\n${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}

function buildProgram(name: string, cli: CliOptions, out: (t: string) => void, err: (t: string) => void, setExit: (code: number) => void): Command {
  // Settings before subcommands: commander copies them into each subcommand when it is created.
  const program = new Command(name)
    .description('Per-stage S3 logging with daily rotation: append fetches locally, number them through the day, upload them to the daily S3 object.')
    .exitOverride()
    // Only usage errors and the usage-on-error reach writeErr; both are replaced by one E_USAGE line.
    .configureOutput({ writeOut: out, writeErr: () => {}, outputError: (text) => err(usageLine(name, name, text)) })
    .enablePositionalOptions();

  const common = (cmd: Command) =>
    cmd
      .addOption(
        new Option('--stage <name>', 'stage to act on (from stages.config.json)').default(
          cli.stageConfig?.stage,
          cli.stageConfig ? cli.stageConfig.stage : undefined,
        ),
      )
      .option('--config <file>', 'JSON config file for the stage (see docs/configuration.md)')
      .option('--now <instant>', 'fix the clock to this ISO-8601 instant (simulation and tests)');

  const setup = (opts: CommonOptions) => {
    const resolveOptions: Parameters<typeof resolveConfig>[0] = {};
    if (opts.stage !== undefined) resolveOptions.stage = opts.stage;
    if (opts.config !== undefined) resolveOptions.configFile = opts.config;
    if (cli.stageConfig && (opts.stage === undefined || opts.stage === cli.stageConfig.stage)) {
      resolveOptions.stageConfig = cli.stageConfig;
      if (cli.stageConfigSource) resolveOptions.stageConfigSource = cli.stageConfigSource;
    }
    const config: StageConfig = resolveConfig(resolveOptions);
    const clock = opts.now === undefined ? systemClock() : fixedClock(opts.now);
    return { config, clock };
  };

  // Operational events on stderr are one line each, named after this bin (the JSON form is in the events file).
  const openLogger = (config: StageConfig, clock: ReturnType<typeof systemClock>) =>
    createStageLogger(config, { clock, holdLockMs: 0, opsLog: createOpsLog(config.localDir, config.stage, process.env, err, name) });

  common(program.command('log'))
    .description('append one fetch to the local bookended file; rotate to S3 when fetchLimit fetches are pending')
    .requiredOption('--payload-file <path>', 'file holding the payload (one JSON object or array), or - for standard input')
    .option('--fetch-id <id>', 'name the fetch; logging an id again is a no-op that returns the original number')
    .option('--metrics-file <path>', METRICS_FILE_HELP)
    .addHelpText(
      'after',
      '\nPrints one JSON line: fetch_id, fetch_number, date, records, pending, rotated, upload_sequence (+ upload_error when an upload failed; the fetch is still logged and exit is 0).',
    )
    .action(async (opts: CommonOptions & { payloadFile: string; fetchId?: string; metricsFile?: string }) => {
      const { config, clock } = setup(opts);
      const { text, source } = await readPayloadText(opts.payloadFile);
      const logger = openLogger(config, clock);
      const logOptions: { source: string; fetchId?: string } = { source };
      if (opts.fetchId !== undefined) logOptions.fetchId = opts.fetchId;
      const result = await logger.logFetch(text, logOptions);
      out(`${JSON.stringify(result)}\n`);
      const metricsFile = metricsTarget(opts.metricsFile);
      if (metricsFile)
        await (await import('../metrics/refresh.js')).refreshMetricsAfterCommand(metricsFile, logger, clock, (line) => err(`${name}: ${line}\n`));
    });

  common(program.command('flush'))
    .description('upload every pending fetch now (one upload per local date)')
    .option('--metrics-file <path>', METRICS_FILE_HELP)
    .option('--if-older-than <duration>', 'upload only when the oldest pending fetch has waited this long, e.g. 15m (s, m, h or d): for cron')
    .action(async (opts: CommonOptions & { metricsFile?: string; ifOlderThan?: string }) => {
      const olderThanMs = opts.ifOlderThan === undefined ? undefined : parseDuration(opts.ifOlderThan);
      if (opts.ifOlderThan !== undefined && olderThanMs === undefined)
        throw new InputError('E_USAGE', `--if-older-than ${JSON.stringify(opts.ifOlderThan)} is not a duration; use ${DURATION_HINT}`);
      const { config, clock } = setup(opts);
      const logger = openLogger(config, clock);
      // A progress bar on a terminal when catching up a backlog; nothing when stderr is not a TTY.
      const { withFlushProgress } = await import('./progress.js');
      const result = await withFlushProgress(logger, () => logger.flush(olderThanMs === undefined ? {} : { olderThanMs }));
      out(`${JSON.stringify(result)}\n`);
      const metricsFile = metricsTarget(opts.metricsFile);
      if (metricsFile)
        await (await import('../metrics/refresh.js')).refreshMetricsAfterCommand(metricsFile, logger, clock, (line) => err(`${name}: ${line}\n`));
      if (result.upload_error) setExit(1);
    });

  common(program.command('status'))
    .description('local and S3 state of the stage')
    .option('--json', 'print JSON instead of a table')
    .option('--local', 'do not contact S3')
    .option('--metrics-file <path>', `${METRICS_FILE_HELP}; e.g. from cron every minute, so ages stay current while the stage is idle`)
    .action(async (opts: CommonOptions & { json?: boolean; local?: boolean; metricsFile?: string }) => {
      const { config, clock } = setup(opts);
      const logger = openLogger(config, clock);
      const status = await logger.status();
      const s3 = opts.local || !config.bucket ? undefined : await (await import('./s3-status.js')).readS3Status(config, status.daily_key, status.date);
      const metrics = await (await import('../metrics/metrics.js')).collectStageMetrics(config, status, clock.instant());
      const target = metricsTarget(opts.metricsFile);
      const metricsFile = target
        ? await (await import('../metrics/refresh.js')).writeMetricsAfterCommand(target, metrics, (line) => err(`${name}: ${line}\n`))
        : undefined;
      const full = { ...status, ...(s3 === undefined ? {} : { s3 }), metrics, ...(metricsFile ? { metrics_file: metricsFile } : {}) };
      out(opts.json ? `${JSON.stringify(full)}\n` : renderStatus(full));
    });

  common(program.command('doctor'))
    .description(
      'connection test: timezone, local directory, state, lock, credentials, bucket, write/read/delete probe, conditional writes, checksums, UploadPartCopy',
    )
    .option('--json', 'print JSON instead of a checklist')
    .option('--skip-copy-probe', 'skip the UploadPartCopy probe (it uploads a 5 MiB object)')
    .action(async (opts: CommonOptions & { json?: boolean; skipCopyProbe?: boolean }) => {
      const { config, clock } = setup(opts);
      const { runDoctor } = await import('../doctor/doctor.js');
      const report = await runDoctor(config, { clock, ...(opts.skipCopyProbe ? { skipCopyProbe: true } : {}) });
      out(opts.json ? `${JSON.stringify(report)}\n` : renderDoctor(report));
      setExit(report.ok ? 0 : 1);
    });

  addConsumeCommand(common(program.command('consume')), setup, { name, ...(cli.stdout ? { stdout: out } : {}), ...(cli.stderr ? { stderr: cli.stderr } : {}) });

  // A subcommand's usage error points at that subcommand's help.
  for (const command of program.commands) {
    command.configureOutput({ writeOut: out, writeErr: () => {}, outputError: (text) => err(usageLine(name, `${name} ${command.name()}`, text)) });
  }
  return program;
}

/**
 * commander's message (`error: required option '--payload-file <path>' not specified`, possibly with a
 * `(Did you mean …?)` line) as the contract's one line: `<bin>: error E_USAGE: …; run '<cmd> --help' for usage`.
 */
function usageLine(bin: string, command: string, text: string): string {
  const message = text
    .replace(/^error:\s*/, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  return `${bin}: error E_USAGE: ${message} (run '${command} --help' for usage)\n`;
}
