/**
 * @rotating-s3/core — the shared engine of every stage package. This is the package's only public door.
 *
 * @example
 * ```ts
 * import { createStageLogger, resolveConfig } from '@rotating-s3/core';
 * const logger = createStageLogger(resolveConfig({ stage: 'merge' }));
 * const result = await logger.logFetch({ matches: [{ match_id: 'm1' }] });
 * ```
 */
export { resolveConfig, readConfigFile, readStagesFile, findStagesFile, assertStageName, checkStageEntry, STAGES_FILE_NAME } from './config/load.js';
export type { ResolveConfigOptions, StagesFileEntry, StageEntryProblem } from './config/load.js';
export { STAGE_NAME_PATTERN, DEFAULTS, isJsonPointer, configFileSchema, stageEntrySchema, SSE_VALUES, STORAGE_CLASSES } from './config/schema.js';
export type { StageConfig, StageConfigInput, PayloadLayout } from './config/schema.js';
export { RotatingS3Error, ConfigError, InputError, LocalIoError, S3Error } from './errors.js';
export type { ErrorCode } from './errors.js';
export { createStageLogger } from './logger/stage-logger.js';
export type { StageLogger, StageLoggerOptions, LogFetchOptions, LogResult, FlushResult, FlushOptions, StageStatus, UploadReport } from './logger/types.js';
export { FETCH_ID_PATTERN } from './logger/fetch-id.js';
export { BlockScanner, formatBlock } from './local/bookended.js';
export type { BlockMeta, ScannedBlock, TornSegment, ScanEvent } from './local/bookended.js';
export { scanLog, readLog, logFilePaths } from './local/log-file.js';
export type { DurableFs } from './local/durable-fs.js';
export { nodeDurableFs } from './local/durable-fs.js';
export { countRecords, extractRecords, resolvePointer, parsePayload, checkPayloadText, countRecordsInText, recordsOfPayload } from './records/records.js';
export { JsonText, JsonTextError, MAX_PAYLOAD_DEPTH, checkJson, layoutJson } from './records/json-text.js';
export type { JsonLayout } from './records/json-text.js';
export type { Payload } from './records/records.js';
export { dailyObjectKey, applyUpload, serializeDailyObject, validateDailyObject } from './s3/daily-object.js';
export type { DailyObject, DailyMetadata, UploadEntry, FetchEntry } from './s3/daily-object.js';
export type { DailyObjectStore, AppendOutcome } from './s3/daily-store.js';
export { systemClock, fixedClock, parseInstant } from './time/clock.js';
export { parseDuration } from './time/duration.js';
export { systemTimers } from './time/timers.js';
export type { Timers, TimerHandle } from './time/timers.js';
export { formatTimestamp, localDateOf } from './time/zone.js';
export { runCli } from './cli/main.js';
export type { CliOptions } from './cli/main.js';
export type { DoctorReport, DoctorCheck, CheckStatus, DoctorOptions } from './doctor/doctor.js';
export { collectStageMetrics, METRICS } from './metrics/metrics.js';
export type { StageMetrics, MetricDescriptor, MetricName } from './metrics/metrics.js';
export { renderPrometheus, writeMetricsFile, metricsFilePath, METRICS_FILE_ENV } from './metrics/prometheus.js';
export { refreshMetricsFile } from './metrics/refresh.js';
export { createProgress } from './cli/progress.js';
export type { Progress, ProgressOptions } from './cli/progress.js';
export { createConsumer, defaultConsumerStateDir, CONSUMER_RETENTION_DAYS, MIN_RETENTION_DAYS } from './consumer/consumer.js';
export type {
  Consumer,
  ConsumerOptions,
  ConsumedRecord,
  RecordHandler,
  RunOptions,
  RunSummary,
  ConsumerWarning,
  ConsumerWarningCode,
} from './consumer/types.js';
export { ConsumerError } from './consumer/errors.js';
export type { ConsumerErrorCode } from './consumer/errors.js';
export { consumerStatePath, CONSUMER_NAME_PATTERN } from './consumer/state.js';
export { contentHashOf, recordIdOf } from './records/record-id.js';
export { runWithPayloadFile } from './delegate/payload-file.js';
export type { PayloadRunOptions, PayloadRunResult } from './delegate/payload-file.js';
export { createDelegate, DelegateError } from './delegate/delegate.js';
export type { Delegate, DelegateOptions, DelegateCallOptions } from './delegate/delegate.js';
export { buildMockPayload } from './records/mock-data.js';
export type { MockPayloadOptions } from './records/mock-data.js';
export { defineStage } from './stage/define-stage.js';
export type { StagePackage } from './stage/define-stage.js';
