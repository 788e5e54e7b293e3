// Reading the files a config points at (the config itself, *_file secrets) without trusting
// them: a FIFO with no writer would block the event loop forever, /dev/zero never ends, and a
// 55 MB file used to take the whole heap. Every read is synchronous on purpose (a reload swaps
// the config atomically), so it must be bounded: regular files only, under a size cap.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/**
 * The config file: 2 MiB holds ~20 000 checks written one per line (the largest benchmark
 * config, 1.7 MiB), and keeps the worst-case parse (see MAX_CONFIG_TOKENS) within the heap.
 */
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;
/** A *_file secret: a password, a token, a PEM chain or a JSON service-account key fits many times over. */
export const MAX_SECRET_BYTES = 64 * 1024;

/** Why a file was refused; `message` never contains the file's content. */
export class UnreadableFileError extends Error {
  /** The errno code when the file could not be opened or read at all (ENOENT, EACCES). */
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/**
 * Read a regular file of at most `maxBytes` as UTF-8. O_NONBLOCK makes opening a FIFO return at
 * once instead of waiting for a writer; fstat on the open descriptor (not the path, which could
 * be swapped in between) refuses anything but a regular file; at most maxBytes+1 bytes are read,
 * so a file that grows after the fstat still cannot exceed the cap.
 */
export function readRegularFile(file: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UnreadableFileError(`cannot read ${file}: ${code}`, code);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UnreadableFileError(`${file} is ${kindOf(st)}, expected a regular file`);
    const tooBig = () => new UnreadableFileError(`${file} is larger than the ${formatBytes(maxBytes)} limit`);
    if (st.size > maxBytes) throw tooBig();
    const buf = Buffer.allocUnsafe(maxBytes + 1);
    let length = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, length, buf.length - length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new UnreadableFileError(`cannot read ${file}: ${code}`, code);
      }
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw tooBig();
    }
    return buf.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}
