/**
 * The CLI (SPEC §7): `rotating-s3 <command> --stage <name>` and each stage's `<stage>_rotating_s3 <command>`.
 * stdout carries only results (JSON lines, or the status table); problems are one line on stderr.
 * Exit codes: 0 done, 2 bad usage or input (nothing was written), 1 any other failure.
 * The AWS SDK is loaded only by commands that talk to S3, so `log` without a rotation starts fast.
 */
import { Command, CommanderError, Option } from 'commander';
import { resolveConfig } from '../config/load.js';
import type { StageConfig, StageConfigInput } from '../config/schema.js';
import { RotatingS3Error } from '../errors.js';
import { createStageLogger } from '../logger/stage-logger.js';
import { fixedClock, systemClock } from '../time/clock.js';
import { addConsumeCommand } from './consume-command.js';
import { readPayloadText } from './payload.js';
import { renderDoctor, renderStatus } from './render.js';

export interface CliOptions {
  /** Program name in help and errors. Default: `rotating-s3`. */
  name?: string;
  /** The stage's generated config (stage bins pass theirs; `--stage` is then optional). */
  stageConfig?: StageConfigInput;
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

  let exitCode = 0;
  const program = buildProgram(name, options, out, err, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      if (error.code === 'commander.executeSubCommandAsync') return 1;
      // commander already printed its one-line message; usage errors are exit 2 by contract.
      return 2;
    }
    if (error instanceof RotatingS3Error) {
      err(`${name}: error ${error.code}: ${error.message}\n`);
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
    .configureOutput({ writeOut: out, writeErr: err, outputError: (text, write) => write(text) })
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions();

  const common = (cmd: Command) =>
    cmd
      .addOption(new Option('--stage <name>', 'stage to act on (from stages.config.json)').default(cli.stageConfig?.stage, cli.stageConfig ? cli.stageConfig.stage : undefined))
      .option('--config <file>', 'JSON config file for the stage (see docs/configuration.md)')
      .option('--now <instant>', 'fix the clock to this ISO-8601 instant (simulation and tests)');

  const setup = (opts: CommonOptions) => {
    const resolveOptions: Parameters<typeof resolveConfig>[0] = {};
    if (opts.stage !== undefined) resolveOptions.stage = opts.stage;
    if (opts.config !== undefined) resolveOptions.configFile = opts.config;
    if (cli.stageConfig && (opts.stage === undefined || opts.stage === cli.stageConfig.stage)) resolveOptions.stageConfig = cli.stageConfig;
    const config: StageConfig = resolveConfig(resolveOptions);
    const clock = opts.now === undefined ? systemClock() : fixedClock(opts.now);
    return { config, clock };
  };

  common(program.command('log'))
    .description('append one fetch to the local bookended file; rotate to S3 when fetchLimit fetches are pending')
    .requiredOption('--payload-file <path>', 'file holding the payload (one JSON object or array), or - for standard input')
    .option('--fetch-id <id>', 'name the fetch; logging an id again is a no-op that returns the original number')
    .addHelpText('after', '\nPrints one JSON line: fetch_id, fetch_number, date, records, pending, rotated, upload_sequence (+ upload_error when an upload failed; the fetch is still logged and exit is 0).')
    .action(async (opts: CommonOptions & { payloadFile: string; fetchId?: string }) => {
      const { config, clock } = setup(opts);
      const { text, source } = await readPayloadText(opts.payloadFile);
      const logger = createStageLogger(config, { clock, holdLockMs: 0 });
      const logOptions: { source: string; fetchId?: string } = { source };
      if (opts.fetchId !== undefined) logOptions.fetchId = opts.fetchId;
      const result = await logger.logFetch(text, logOptions);
      out(`${JSON.stringify(result)}\n`);
    });

  common(program.command('flush'))
    .description('upload every pending fetch now (one upload per local date)')
    .action(async (opts: CommonOptions) => {
      const { config, clock } = setup(opts);
      const result = await createStageLogger(config, { clock, holdLockMs: 0 }).flush();
      out(`${JSON.stringify(result)}\n`);
      if (result.upload_error) setExit(1);
    });

  common(program.command('status'))
    .description('local and S3 state of the stage')
    .option('--json', 'print JSON instead of a table')
    .option('--local', 'do not contact S3')
    .action(async (opts: CommonOptions & { json?: boolean; local?: boolean }) => {
      const { config, clock } = setup(opts);
      const status = await createStageLogger(config, { clock, holdLockMs: 0 }).status();
      const s3 = opts.local || !config.bucket ? undefined : await (await import('./s3-status.js')).readS3Status(config, status.daily_key, status.date);
      const full = s3 === undefined ? status : { ...status, s3 };
      out(opts.json ? `${JSON.stringify(full)}\n` : renderStatus(full));
    });

  common(program.command('doctor'))
    .description('connection test: credentials, bucket, write/read/delete probe, conditional writes, timezone, local directory')
    .option('--json', 'print JSON instead of a checklist')
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      const { config, clock } = setup(opts);
      const { runDoctor } = await import('../doctor/doctor.js');
      const report = await runDoctor(config, { clock });
      out(opts.json ? `${JSON.stringify(report)}\n` : renderDoctor(report));
      setExit(report.ok ? 0 : 1);
    });

  addConsumeCommand(common(program.command('consume')), setup, { name, ...(cli.stdout ? { stdout: out } : {}), ...(cli.stderr ? { stderr: cli.stderr } : {}) });

  return program;
}
