/** @rotating-s3/generators — the Nx generators, also used by the plopfile. */
export { stageGenerator, normalizeStageOptions, writeStage, STAGES_DIR } from './stage/generator';
export { syncStagesGenerator } from './sync-stages/generator';
export type { StageGeneratorSchema } from './stage/schema';
export type { StageEntry } from './stage/stages-config';
