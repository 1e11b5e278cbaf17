import type { StageEntry } from './stages-config';

/**
 * Options of the `stage` generator; see schema.json for defaults and prompts. The stage fields are those
 * of a `stages.config.json` entry (stages-config.ts), each optional here; `name` is the entry's `stage`.
 */
export interface StageGeneratorSchema extends Partial<Omit<StageEntry, 'stage'>> {
  name: string;
  overwrite?: boolean;
  skipInstall?: boolean;
  skipFormat?: boolean;
}
