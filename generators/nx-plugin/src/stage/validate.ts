/**
 * Validation of generator options, at the edge: one clear line naming the option, the value and the fix.
 * The rules are the runtime's own: the core's `checkStageEntry` (packages/rotating-s3-core/src/config),
 * the same schema that validates `stages.config.json`, `stage.config.json`, `--config` and the environment.
 * This package is CommonJS (Nx loads generators with require) and the core is ESM, so the core is loaded
 * with a dynamic `import()`. tsconfig.lib.json (module Node16) keeps `import()` in the output, but Nx loads
 * generators through its own transpiling require hook, which turns it back into `require()` (and the
 * core's exports have no `require` condition): the import is therefore built at run time.
 */

/** A stage name becomes a package name, file names and S3 keys (the remove-stage generator checks it early). */
export const STAGE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * A refusal of the generator's options: an expected error, so it carries no stack. Nx prints a thrown
 * error's message as one line and adds "Pass --verbose to see the stacktrace." only when the error has a
 * stack (`handleErrors`); without one the user sees exactly the message, which names the option and the fix.
 */
export class StageOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageOptionError';
    delete (this as { stack?: string }).stack;
  }
}

type Core = typeof import('@rotating-s3/core', { with: { 'resolution-mode': 'import' } });
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a real ESM import that no transpiler rewrites
const nativeImport = new Function('return import("@rotating-s3/core")') as () => Promise<Core>;

/** The core, by a native import; inside a VM without an import hook (Vitest), by the runner's own. */
async function importCore(): Promise<Core> {
  try {
    return await nativeImport();
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING') throw error;
    return import('@rotating-s3/core');
  }
}

/** Generator option of a stage-entry field (`stage` is `--name`). */
function optionOf(field: string): string {
  return `--${field === 'stage' ? 'name' : field}`;
}

/** Throws a StageOptionError listing every problem of `entry` (a stages.config.json entry), one per option. */
export async function assertValidStageOptions(entry: Record<string, unknown>): Promise<void> {
  const { checkStageEntry } = await importCore();
  const problems = checkStageEntry(entry);
  if (problems.length === 0) return;
  throw new StageOptionError(
    problems
      .map((p) => (p.input === undefined ? `${optionOf(p.field)} ${p.message}` : `${optionOf(p.field)} ${JSON.stringify(p.input)} ${p.message}`))
      .join('; '),
  );
}
