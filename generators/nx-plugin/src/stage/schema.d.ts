/** Options of the `stage` generator; see schema.json for defaults and prompts. */
export interface StageGeneratorSchema {
  name: string;
  fetchLimit?: number;
  timezone?: string;
  recordsPath?: string;
  recordIdField?: string;
  recordType?: string;
  bucket?: string;
  prefix?: string;
  localDir?: string;
  forcePathStyle?: boolean;
  sse?: string;
  sseKmsKeyId?: string;
  storageClass?: string;
  expectedBucketOwner?: string;
  maxPendingAge?: string;
  payloadLayout?: 'pretty' | 'compact';
  description?: string;
  overwrite?: boolean;
  skipInstall?: boolean;
  skipFormat?: boolean;
}
