/** Mock payloads of the merge stage: match records at `/matches`. */
import { buildMockPayload } from '@rotating-s3/core';

export function mockMergePayload(seed: number | string, records = 5, padding = 0): ReturnType<typeof buildMockPayload> {
  return buildMockPayload({ recordsPath: '/matches', recordIdField: 'match_id', recordType: 'match', records, seed, padding });
}
