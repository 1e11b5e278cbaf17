/**
 * npm run bench -- startup: a `log` call (1 KB fetch, no rotation) two ways, each paired in the same
 * rounds with `node -e ''` and with `python3 -c 'import boto3'` (what a Python logging script pays
 * before it does anything), on this machine's Node and on Node 24 (BENCH_NODE_MAJORS, default "24";
 * installed from the npm registry by tools/node-versions/install.sh), with and without NODE_EXTRA_CA_CERTS:
 *   bin       `node <merge_rotating_s3.js> log --payload-file …`: the path a Python pipeline uses
 *   delegate  one logViaScript() call in a running Node process: the path a JavaScript pipeline uses
 * and, without NODE_EXTRA_CA_CERTS, what the kept start-up measures save (each a separate row):
 *   esm           the same CLI loaded from dist/ ES modules instead of the CommonJS bundle
 *   no-cache      the bin with NODE_DISABLE_COMPILE_CACHE=1 (Node 22.8+ only)
 *   full-tzdb     require('@js-joda/timezone'): what every call would load without dist/tzdb.txt
 *   aws-sdk       require('@aws-sdk/client-s3'): what every call would load without lazy imports
 * Ratios are medians of per-round ratios (rounds interleave every command). Report, don't assert.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CREDS, median, table } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_STARTUP_ROUNDS ?? 21);

function timed(command, args, env, cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim()}`)),
    );
  });
}

/** A long-lived pipeline process on `node` whose delegate calls are timed one at a time. */
function startDriver(node, driver, stageModule, payloadFile, env) {
  const child = spawn(node, [driver, stageModule, payloadFile], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async call() {
      child.stdin.write('go\n');
      const { value, done } = await lines.next();
      if (done) throw new Error('the delegate driver exited');
      return Number(value);
    },
    stop: () => child.stdin.end(),
  };
}

function nodes(root) {
  const found = [{ label: `Node ${process.versions.node.split('.')[0]} (${process.version}, this machine's)`, path: process.execPath }];
  for (const major of (process.env.BENCH_NODE_MAJORS ?? '24').split(/[ ,]+/).filter(Boolean)) {
    if (process.versions.node.startsWith(`${major}.`)) continue;
    const installed = spawnSync('bash', [join(root, 'tools', 'node-versions', 'install.sh'), major], { encoding: 'utf8' });
    if (installed.status !== 0) {
      process.stderr.write(`bench startup: Node ${major} not available (${installed.stderr.trim()}); skipped\n`);
      continue;
    }
    const path = installed.stdout.trim();
    found.push({ label: `Node ${major} (${spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim()})`, path });
  }
  return found;
}

export async function benchStartup({ root, work, here }) {
  const dir = mkdtempSync(join(work, 'startup-'));
  const payloadFile = join(dir, 'p.json');
  writeFileSync(payloadFile, JSON.stringify({ run: 0, matches: Array.from({ length: 10 }, (_, k) => ({ match_id: `m${k}`, v: 'x'.repeat(70) })) }));
  const stageBin = join(root, 'packages', 'stages', 'merge', 'bin', 'merge_rotating_s3.js');
  const stageModule = join(root, 'packages', 'stages', 'merge', 'dist', 'index.js');
  const esmCli = join(here, 'esm-cli.mjs');
  const python = process.env.ROTATING_S3_TEST_PYTHON ?? 'python3';
  const boto3 = spawnSync(python, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;
  if (!boto3) process.stderr.write(`bench startup: ${python} cannot import boto3; its column is left out\n`);
  // fetchLimit 100000: no rotation, so no S3 call; the bucket is never contacted.
  const base = { ...process.env, ...CREDS, ROTATING_S3_LOCAL_DIR: join(dir, 'local'), ROTATING_S3_FETCH_LIMIT: '100000' };
  delete base.NODE_COMPILE_CACHE;
  delete base.NODE_DISABLE_COMPILE_CACHE;
  const clean = { ...base };
  delete clean.NODE_EXTRA_CA_CERTS;
  const environments = process.env.NODE_EXTRA_CA_CERTS ? { clean, machine: base } : { clean };

  const results = {};
  const rows = [];
  for (const node of nodes(root)) {
    const hasCompileCache = spawnSync(node.path, ['-p', "typeof require('node:module').enableCompileCache"], { encoding: 'utf8' }).stdout.trim() === 'function';
    for (const [envName, env] of Object.entries(environments)) {
      const commands = {
        node_e: () => timed(node.path, ['-e', ''], env),
        ...(boto3 ? { boto3: () => timed(python, ['-c', 'import boto3'], env) } : {}),
        bin: () => timed(node.path, [stageBin, 'log', '--payload-file', payloadFile], env),
      };
      if (envName === 'clean') {
        Object.assign(commands, {
          esm: () => timed(node.path, [esmCli, stageModule.replace(/dist[/\\]index\.js$/, ''), 'log', '--payload-file', payloadFile], env),
          ...(hasCompileCache
            ? { no_cache: () => timed(node.path, [stageBin, 'log', '--payload-file', payloadFile], { ...env, NODE_DISABLE_COMPILE_CACHE: '1' }) }
            : {}),
          full_tzdb: () => timed(node.path, ['-e', "require('@js-joda/core'); require('@js-joda/timezone')"], env, join(root, 'packages', 'rotating-s3-core')),
          aws_sdk: () => timed(node.path, ['-e', "require('@aws-sdk/client-s3')"], env, join(root, 'packages', 'rotating-s3-core')),
        });
      }
      const driver = startDriver(node.path, join(here, 'delegate-driver.mjs'), stageModule, payloadFile, env);
      commands.delegate = () => driver.call();
      const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
      try {
        for (let round = -2; round < ROUNDS; round++) {
          for (const [name, run] of Object.entries(commands)) {
            const ms = await run();
            if (round >= 0) times[name].push(ms); // two warm-up rounds fill the compile cache and the page cache
          }
        }
      } finally {
        driver.stop();
      }
      const ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
      const ratio = (a, b) => median(times[a].map((t, i) => t / times[b][i]));
      const r = { node_e_ms: ms.node_e, boto3_ms: ms.boto3 ?? null, bin_ms: ms.bin, delegate_ms: ms.delegate };
      r.bin_vs_node_e = ratio('bin', 'node_e');
      r.delegate_vs_node_e = ratio('delegate', 'node_e');
      if (boto3) {
        r.bin_vs_boto3 = ratio('bin', 'boto3');
        r.delegate_vs_boto3 = ratio('delegate', 'boto3');
      }
      for (const extra of ['esm', 'no_cache', 'full_tzdb', 'aws_sdk']) if (times[extra]) r[`${extra}_ms`] = ms[extra];
      results[`${node.label.split(' (')[0].replace(' ', '_').toLowerCase()}_${envName}`] = { node: node.label, env: envName, ...r };
      const where = envName === 'clean' ? 'no NODE_EXTRA_CA_CERTS' : 'NODE_EXTRA_CA_CERTS set';
      const vsBoto3 = (k) => (boto3 ? ratio(k, 'boto3').toFixed(2) : 'n/a');
      rows.push(
        [node.label, where, "node -e ''", ms.node_e.toFixed(0), '1.00', boto3 ? ratio('node_e', 'boto3').toFixed(2) : 'n/a'],
        ...(boto3 ? [['', '', "python3 -c 'import boto3'", ms.boto3.toFixed(0), ratio('boto3', 'node_e').toFixed(2), '1.00']] : []),
        ['', '', 'stage bin: <stage>_rotating_s3 log', ms.bin.toFixed(0), r.bin_vs_node_e.toFixed(2), vsBoto3('bin')],
        ['', '', 'delegate: logViaScript() in a running process', ms.delegate.toFixed(0), r.delegate_vs_node_e.toFixed(2), vsBoto3('delegate')],
      );
      if (times.esm) rows.push(['', '', '(the CLI from dist/ ES modules, no bundle)', ms.esm.toFixed(0), ratio('esm', 'node_e').toFixed(2), '']);
      if (times.no_cache) rows.push(['', '', '(stage bin, compile cache off)', ms.no_cache.toFixed(0), ratio('no_cache', 'node_e').toFixed(2), '']);
      if (times.full_tzdb) rows.push(['', '', '(avoided: loading the full tzdb)', ms.full_tzdb.toFixed(0), ratio('full_tzdb', 'node_e').toFixed(2), '']);
      if (times.aws_sdk) rows.push(['', '', '(avoided: loading the AWS SDK)', ms.aws_sdk.toFixed(0), ratio('aws_sdk', 'node_e').toFixed(2), '']);
    }
  }
  const out = table(
    `start-up: \`log\` of a 1 KB fetch, no rotation (median of ${ROUNDS} interleaved rounds; ratios are medians of per-round ratios)`,
    ['Node', 'environment', 'command', 'wall ms', "× node -e ''", '× import boto3'],
    rows,
  );
  return { results, out };
}
