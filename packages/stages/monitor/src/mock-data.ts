/** Mock payloads of the monitor stage: incident records at `/incidents`. */
import { buildMockPayload } from '@rotating-s3/core';

export function mockMonitorPayload(seed: number | string, records = 5, padding = 0): ReturnType<typeof buildMockPayload> {
  return buildMockPayload({ recordsPath: '/incidents', recordIdField: 'incident_id', recordType: 'incident', records, seed, padding });
}
