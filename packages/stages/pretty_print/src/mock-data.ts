/** Mock payloads of the pretty_print stage: item records at `/data/items`. */
import { buildMockPayload } from '@rotating-s3/core';

export function mockPrettyPrintPayload(seed: number | string, records = 5, padding = 0): ReturnType<typeof buildMockPayload> {
  return buildMockPayload({ recordsPath: '/data/items', recordIdField: 'item_id', recordType: 'item', records, seed, padding });
}
