/**
 * Module state that must belong to the running process (its environment, its randomness) is computed by
 * `refresh` now, and again when a process starts from the CLI's start-up snapshot: a value computed while
 * the snapshot was built would otherwise be the build's (scripts/bundle-cli.mjs, cli/snapshot-main.ts).
 */
import { startupSnapshot } from 'node:v8';

export function refreshedAtStart(refresh: () => void): void {
  refresh();
  if (startupSnapshot.isBuildingSnapshot()) startupSnapshot.addDeserializeCallback(refresh);
}
