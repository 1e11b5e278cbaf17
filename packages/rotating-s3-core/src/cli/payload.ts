/**
 * Reads a payload for `log --payload-file <path|->`. The payload never travels on the command line
 * (argument lists are limited to a few MB and visible in `ps`): a file path, or `-` for standard input.
 */
import { isUtf8 } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) {
    throw new InputError('E_PAYLOAD', '--payload-file - reads the payload from standard input, but it is a terminal; pipe the JSON in or pass a file path');
  }
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * Returns the payload's UTF-8 bytes (without a byte-order mark) and a name for them (used in error
 * messages). The bytes are passed on as they are: the payload's text is kept exactly.
 */
export async function readPayloadText(file: string): Promise<{ text: Buffer; source: string }> {
  const source = file === '-' ? 'standard input' : file;
  let bytes: Buffer;
  try {
    bytes = file === '-' ? await readStdin() : await readFile(file);
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`;
    throw new InputError('E_PAYLOAD', `payload file ${file} ${why}; pass the path of a file holding one JSON object or array`, { cause });
  }
  if (!isUtf8(bytes)) {
    throw new InputError('E_PAYLOAD', `payload from ${source} is not UTF-8 text (binary data?); pass a JSON object or array encoded as UTF-8`);
  }
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return { text: bom ? bytes.subarray(3) : bytes, source };
}
