/**
 * test_monitor_complete_logging: the monitor stage end to end against a real S3 server (the harness's
 * moto), through the shared stage contract of @rotating-s3/core/testing: rotation at fetchLimit, every
 * daily-object field, local midnight in UTC (through --now), the delegate, a refused payload
 * and the connection test, with mock incident data built from stage.config.json.
 */
import { describeStageContract } from '@rotating-s3/core/testing';
import * as s3 from '@rotating-s3/test-harness';

describeStageContract(new URL('..', import.meta.url), { s3 });
