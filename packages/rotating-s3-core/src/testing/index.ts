/**
 * `@rotating-s3/core/testing`: the shared stage contract. A generated stage's
 * `test_<stage>_complete_logging.spec.ts` calls `describeStageContract(stageDir, { s3 })`, so the
 * end-to-end checks live here once. This entry imports vitest (an optional peer dependency of the core);
 * the core's main entry never imports this file.
 */
export { describeStageContract, mockStagePayload } from './stage-contract.js';
export type { StageContractOptions, StageContractS3 } from './stage-contract.js';
