/**
 * `stages.config.json` at the workspace root: the list the stage packages are generated from.
 * Each entry has the runtime fields of a `--config` file plus generator-only `recordType`/`description`.
 */
import type { Tree } from '@nx/devkit';

export const STAGES_FILE = 'stages.config.json';

export interface StageEntry {
  stage: string;
  description?: string;
  recordType: string;
  bucket: string;
  prefix: string;
  localDir: string;
  fetchLimit: number;
  timezone: string;
  recordsPath: string;
  recordIdField?: string;
  forcePathStyle?: boolean;
  sse?: string;
  sseKmsKeyId?: string;
  storageClass?: string;
  expectedBucketOwner?: string;
  maxPendingAge?: string;
  payloadLayout?: 'pretty' | 'compact';
}

interface StagesFile {
  $schema?: string;
  stages: StageEntry[];
}

export function readStages(tree: Tree): StageEntry[] {
  const text = tree.read(STAGES_FILE, 'utf-8');
  if (!text) return [];
  return (JSON.parse(text) as StagesFile).stages ?? [];
}

/** Adds or replaces the entry of `entry.stage`, keeping the other entries and their order. */
export function upsertStage(tree: Tree, entry: StageEntry): void {
  const text = tree.read(STAGES_FILE, 'utf-8');
  const file: StagesFile = text ? (JSON.parse(text) as StagesFile) : { stages: [] };
  const at = file.stages.findIndex((s) => s.stage === entry.stage);
  if (at >= 0) file.stages[at] = entry;
  else file.stages.push(entry);
  tree.write(STAGES_FILE, `${JSON.stringify(file, null, 2)}\n`);
}

/** The entry as the stage's own `stage.config.json` (a valid `--config` file: no generator-only fields). */
export function runtimeConfigOf(entry: StageEntry): Record<string, unknown> {
  const { recordType: _type, description: _description, ...runtime } = entry;
  return runtime;
}
