/** One-line, coded errors for a local file that cannot be read: what it is, why, and what to do. */
import { LocalIoError, describeError } from '../errors.js';

/** `cannot read <what> <path> (EISDIR: it is a directory); move <path> aside …`. */
export function unreadableLocalFile(what: string, path: string, error: unknown): LocalIoError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'EISDIR'
      ? 'it is a directory'
      : code === 'ENOTDIR'
        ? 'a part of its path is not a directory'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : describeError(error);
  const fix =
    code === 'EISDIR' || code === 'ENOTDIR'
      ? `move ${path} aside (it must be a regular file, which rotating-s3 creates when absent)`
      : code === 'EACCES' || code === 'EPERM'
        ? `let the user running rotating-s3 read and write ${path}`
        : `check ${path} and the disk it is on`;
  return new LocalIoError(`cannot read ${what} ${path} (${code ?? 'error'}: ${why}); ${fix}`, { cause: error });
}
