/**
 * The file operations whose ordering keeps the local files consistent across a crash. They come in
 * through `DurableFs` so tests can inject faults (ENOSPC, EROFS) without touching real disks.
 *
 * - append: open O_APPEND → write → fsync → close. A crash leaves a prefix of the data (a torn tail).
 * - writeAtomic: temp file → fsync → rename → fsync directory. A crash leaves the old or the new file.
 */
import { constants, fdatasyncSync, writeSync } from 'node:fs';
import { mkdir, open, stat, truncate as fsTruncate } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadWriteFileAtomic } from '../runtime/lazy-packages.js';

/** An open file that appends durably: each `append` resolves after write + fdatasync. */
export interface DurableAppender {
  append(data: string | Buffer): Promise<void>;
  /** Writes without waiting for the disk (group commit); `sync` makes everything written durable. */
  write(data: string | Buffer): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface DurableFs {
  /** Appends `data` to `path` (created 0600 if missing) and fsyncs before resolving. */
  append(path: string, data: string | Buffer): Promise<void>;
  /**
   * Optional: keeps `path` open for a stream of appends (saves an open and a close per fetch). The
   * caller closes it before the file is truncated or replaced. Without it, `append` is used.
   */
  openAppender?(path: string): Promise<DurableAppender>;
  /** Replaces `path` atomically with `data` (mode 0600) and fsyncs the file and its directory. */
  writeAtomic(path: string, data: string | Buffer): Promise<void>;
  /** Truncates `path` to `size` bytes and fsyncs. */
  truncate(path: string, size: number): Promise<void>;
  /** Creates a private directory (0700) and its parents. */
  ensureDir(path: string): Promise<void>;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** ENOSPC or EDQUOT, also when wrapped in a LocalIoError. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  const cause = (error as { cause?: unknown })?.cause;
  return cause !== undefined && cause !== error && isDiskFull(cause);
}

/** The real file system. */
export const nodeDurableFs: DurableFs = {
  async append(path, data) {
    const handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async openAppender(path) {
    const handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    const fd = handle.fd;
    // Synchronous syscalls on purpose: a durable append is one write + one fdatasync, and the caller
    // waits for both anyway. Through the promise API each would be a thread-pool round trip, which
    // costs as much as the fdatasync itself on a fast disk (npm run bench, "in-process"). The price:
    // the event loop waits for the disk during the fdatasync; group commit (`syncEveryMs`) avoids it.
    const writeAll = (data: string | Buffer): void => {
      let bytes: Buffer;
      let done: number;
      if (typeof data === 'string') {
        // A string is encoded straight into the write; a Buffer is made only if the write comes up short.
        done = writeSync(fd, data);
        const length = Buffer.byteLength(data);
        if (done === length) return;
        bytes = Buffer.from(data);
      } else {
        bytes = data;
        done = 0;
      }
      // A short write (e.g. the disk filling up) leaves a prefix: the torn tail the next start quarantines.
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    };
    return {
      async append(data) {
        writeAll(data);
        // fdatasync also flushes the new file size, which is all an append needs.
        fdatasyncSync(fd);
      },
      async write(data) {
        writeAll(data);
      },
      // Group commit's background flush: off the event loop.
      sync: () => handle.datasync(),
      close: () => handle.close(),
    };
  },
  async writeAtomic(path, data) {
    const writeFileAtomic = await loadWriteFileAtomic();
    await writeFileAtomic(path, data, { mode: 0o600, fsync: true });
    await fsyncDir(dirname(path));
  },
  async truncate(path, size) {
    await fsTruncate(path, size);
    const handle = await open(path, constants.O_RDWR);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async ensureDir(path) {
    try {
      await mkdir(path, { recursive: true, mode: 0o700 });
    } catch (error) {
      // A recursive mkdir reports ENOENT when a missing parent cannot be created (a read-only mount, say):
      // create the missing levels one at a time, so the error names the real cause (EROFS, EACCES).
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw (await firstMkdirError(path)) ?? error;
    }
  },
};

/** Creates the missing directories of `path` from the top one by one; the first error, if any. */
async function firstMkdirError(path: string): Promise<NodeJS.ErrnoException | undefined> {
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      await stat(dir);
      break;
    } catch {
      missing.unshift(dir);
      if (dirname(dir) === dir) break;
    }
  }
  for (const dir of missing) {
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return error as NodeJS.ErrnoException;
    }
  }
  return undefined;
}
