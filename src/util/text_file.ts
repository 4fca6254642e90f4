/**
 * Reading a whole text file with a size limit, for files the user names on the command line
 * (`--prompt @file`, `--query-template @file`, `--ca-cert`): a device or a runaway file
 * (`/dev/zero`, a 2 GB log) ends in one clear error after at most the limit, instead of growing
 * the process to gigabytes. Pipes and devices are read as they come (no size is known up front).
 *
 * @module
 */

/** The largest file {@link readTextFileLimited} reads by default: 64 MiB. */
export const MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024;

/** `67108864` → `64 MiB`, for messages. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/**
 * The UTF-8 text of the file at `path`, or an error once more than `maxBytes` have been read
 * (`larger than 64 MiB, the limit`). Other errors are the runtime's (not found, a folder).
 *
 * @example
 * ```ts
 * const prompt = await readTextFileLimited("prompt.txt");
 * ```
 */
export async function readTextFileLimited(
  path: string | URL,
  maxBytes: number = MAX_TEXT_FILE_BYTES,
): Promise<string> {
  using file = await Deno.open(path, { read: true });
  const parts: Uint8Array[] = [];
  let size = 0;
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    size += n;
    if (size > maxBytes) {
      throw new RangeError(`larger than ${formatBytes(maxBytes)}, the limit`);
    }
    parts.push(buf.slice(0, n));
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(all);
}
