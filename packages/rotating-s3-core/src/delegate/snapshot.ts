/**
 * The CLI's V8 start-up snapshot (dist/snapshot/, built by scripts/bundle-cli.mjs): a stage script started
 * with `node --snapshot-blob dist/snapshot/cli.blob <script> …` begins with the engine already loaded
 * (npm run bench, "start-up"). A blob works only with the Node binary that built it, so it is used only
 * when dist/snapshot/node.json names this very binary; otherwise, or with ROTATING_S3_SNAPSHOT=off, a
 * script starts the ordinary way (from dist/bundle/).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface NodeIdentity {
  node: string;
  execPath: string;
  arch: string;
  platform: string;
}

const SNAPSHOT_DIR = new URL('../snapshot/', import.meta.url);
const thisNode: NodeIdentity = { node: process.version, execPath: process.execPath, arch: process.arch, platform: process.platform };
let cached: string[] | undefined;

/** The Node options that start a script from the snapshot, or `[]` when it cannot be used. */
export function startupSnapshotArgs(env: NodeJS.ProcessEnv = process.env, node: NodeIdentity = thisNode): string[] {
  if (env['ROTATING_S3_SNAPSHOT'] === 'off') return [];
  if (node === thisNode && cached) return cached;
  let args: string[] = [];
  try {
    const built = JSON.parse(readFileSync(new URL('node.json', SNAPSHOT_DIR), 'utf8')) as NodeIdentity;
    const blob = fileURLToPath(new URL('cli.blob', SNAPSHOT_DIR));
    const same = built.node === node.node && built.execPath === node.execPath && built.arch === node.arch && built.platform === node.platform;
    if (same && existsSync(blob)) args = ['--snapshot-blob', blob];
  } catch {
    args = []; // no snapshot was built (or node.json is unreadable): start the ordinary way
  }
  if (node === thisNode) cached = args;
  return args;
}
