/**
 * Downloads a model file: free-disk check first, stream to `<dest>.partial` with progress and cancellation,
 * resume with an HTTP Range request after an interruption, verify size and SHA-256, check the GGUF header, and
 * only then rename into place, so a file at the final path is always complete and verified.
 *
 * Sizes and hashes come from the manifest, or else from the `X-Linked-Size` / `X-Linked-Etag` headers that
 * Hugging Face sends on the redirect from a `resolve/` URL to its CDN (for an LFS file the linked ETag is the
 * file's SHA-256). Redirects are followed by hand so those headers can be read on every hop, and so a login
 * token is sent only to the host it was given for.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { ModelEntry } from '../../common/models/modelManifest';
import { errorMessage, nullLogger, type Logger } from '../../common/logger';
import { writeDataAtomic } from '../safeOutput';

export interface DownloadProgress {
  /** Bytes of the file on disk so far, including what an earlier attempt left. */
  receivedBytes: number;
  /** The full size, when known. */
  totalBytes: number | null;
  /** Transfer rate of this attempt, averaged over the last few seconds. */
  bytesPerSecond: number;
}

export type DownloadErrorKind =
  | 'gated' | 'not-found' | 'http' | 'network' | 'disk-full' | 'size-mismatch' | 'hash-mismatch' | 'not-gguf' | 'aborted';

/** Every failure, with a message that names the URL and says what to do. */
export class DownloadError extends Error {
  constructor(
    readonly kind: DownloadErrorKind,
    readonly url: string,
    message: string,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadOptions {
  url: string;
  /** Final path; the transfer goes to `<dest>.partial` and is renamed here once verified. */
  dest: string;
  /** Exact size in bytes; null or approximate: taken from the server. */
  expectedSize?: number | null;
  sizeApproximate?: boolean;
  /** Lowercase hex SHA-256; null: the server's X-Linked-Etag when it is one. */
  expectedSha256?: string | null;
  /** Check the GGUF magic and header before accepting the file (default true). */
  checkGguf?: boolean;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Bearer token for gated models (default: the HF_TOKEN environment variable). Sent only to the URL's own host. */
  token?: string;
  /** Abort (as a network failure, resumable) when no byte arrives for this long. Default 30 s. */
  stallTimeoutMs?: number;
  /** Automatic resumes after a dropped connection within this call (default 3). */
  retries?: number;
  logger?: Logger;
  /** For tests: replace the file system's free-space query and the HTTP client. */
  statfs?: (dir: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>;
  fetch?: typeof fetch;
}

export interface DownloadResult {
  path: string;
  sizeBytes: number;
  sha256: string;
  /** Where the expected hash came from: 'manifest', 'server' (X-Linked-Etag), or 'none' (nothing to compare). */
  verifiedBy: 'manifest' | 'server' | 'none';
  /** Bytes that an earlier, interrupted attempt had already fetched. */
  resumedFromBytes: number;
}

/** Written beside a verified file, so `modelStore` can tell a verified download from a file copied in by hand. */
export interface VerifiedRecord {
  url: string;
  sizeBytes: number;
  sha256: string;
  verifiedBy: DownloadResult['verifiedBy'];
  verifiedAt: string;
  /** The file's mtime when its hash was last checked: `models list` trusts the record only while it is unchanged. */
  mtimeMs?: number;
}

export const PARTIAL_SUFFIX = '.partial';
export const VERIFIED_SUFFIX = '.verified.json';
/** The resume state of a partial file: which resource it is part of (for If-Range). */
const STATE_SUFFIX = '.partial.json';
/** Kept free beyond the file itself, so finishing a download never leaves the disk completely full. */
const DISK_MARGIN_BYTES = 64 * 1024 * 1024;
const MAX_REDIRECTS = 10;

interface PartialState {
  url: string;
  /** The final response's ETag or Last-Modified: sent as If-Range, so a changed file restarts from zero. */
  validator: string | null;
  totalBytes: number | null;
}

const GB = 1e9;
function gb(n: number): string {
  n = Math.max(0, n);
  return n >= GB / 10 ? `${(n / GB).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`;
}

/**
 * The most bytes the file may have: the exact size when known, else a server's length, else (for an approximate
 * manifest size) that size plus a tenth. A server sending more is aborted at once, so a partial file is never
 * larger than the model and a runaway server cannot fill the disk.
 */
function sizeLimit(opts: DownloadOptions, exact: number | null, total: number | null): number | null {
  if (exact !== null) return exact;
  if (total !== null) return total;
  if (opts.expectedSize != null) return Math.ceil(opts.expectedSize * 1.1) + 1024 * 1024;
  return null;
}

/** The file name of a manifest entry in the models directory. */
export function modelFileName(entry: Pick<ModelEntry, 'id'>): string {
  return `${entry.id}.gguf`;
}

/** Downloads a manifest entry into `modelsDir` as `<id>.gguf`. */
export async function downloadModel(
  entry: ModelEntry,
  modelsDir: string,
  opts: Omit<DownloadOptions, 'url' | 'dest' | 'expectedSize' | 'expectedSha256' | 'sizeApproximate'> = {},
): Promise<DownloadResult> {
  if (entry.format !== 'gguf') throw new Error(`${entry.id} is an ${entry.format} model; only GGUF files can be downloaded yet`);
  if (!/^https?:/.test(entry.url)) throw new Error(`${entry.id} is generated locally (${entry.url}), not downloaded`);
  return download({
    ...opts,
    url: entry.url,
    dest: `${modelsDir}/${modelFileName(entry)}`,
    expectedSize: entry.sizeBytes,
    sizeApproximate: entry.sizeApproximate ?? false,
    expectedSha256: entry.sha256,
  });
}

/** Downloads `url` to `dest` (see the file comment). Throws {@link DownloadError}. */
export async function download(opts: DownloadOptions): Promise<DownloadResult> {
  const log = opts.logger ?? nullLogger;
  const partial = opts.dest + PARTIAL_SUFFIX;
  const statePath = opts.dest + STATE_SUFFIX;
  await mkdir(dirname(opts.dest), { recursive: true });
  const retries = opts.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      return await attemptDownload(opts, partial, statePath, log);
    } catch (err) {
      const e = err instanceof DownloadError ? err : new DownloadError('network', opts.url, errorMessage(err));
      if (e.kind !== 'network' || attempt >= retries || opts.signal?.aborted) throw e;
      log.warn(`${e.message} (resuming, attempt ${attempt + 2} of ${retries + 1})`);
      await new Promise((r) => setTimeout(r, Math.min(4000, 250 * 2 ** attempt)));
    }
  }
}

async function attemptDownload(opts: DownloadOptions, partial: string, statePath: string, log: Logger): Promise<DownloadResult> {
  const { url } = opts;
  let state = await readState(statePath);
  let have = await fileSize(partial);
  if (have > 0 && state?.url !== url) {
    // A partial file from another URL (the manifest moved to a new revision) cannot be resumed.
    await rm(partial, { force: true });
    have = 0;
    state = null;
  }

  const { res, linkedSize, linkedSha256 } = await openResponse(opts, have > 0 ? { from: have, validator: state?.validator ?? null } : null);
  let resumedFrom = 0;
  let total: number | null = null;
  const contentLength = numberHeader(res.headers.get('content-length'));
  if (res.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== have) {
      await res.body?.cancel();
      await discardPartial(partial, statePath);
      throw new DownloadError('network', url, `The server at ${url} answered the resume request with an unexpected range (${res.headers.get('content-range') ?? 'none'}); the partial file was discarded. Try again.`);
    }
    resumedFrom = have;
    total = range[3] === '*' ? null : Number(range[3]);
    log.info(`resuming ${basename(opts.dest)} at ${gb(have)}`);
  } else if (res.status === 416 && have > 0) {
    // Nothing after our offset: the partial file may already be whole. Verify it as it is.
    await res.body?.cancel();
    return finish(opts, partial, statePath, await hashFile(partial), linkedSize, linkedSha256, have);
  } else {
    if (have > 0) log.info(`the server ignored the resume request (status ${res.status}): starting ${basename(opts.dest)} again`);
    have = 0;
    total = contentLength;
  }
  total ??= linkedSize ?? (opts.sizeApproximate ? null : opts.expectedSize ?? null);

  const expected = exactSize(opts, linkedSize);
  if (expected !== null && total !== null && total !== expected) {
    await res.body?.cancel();
    await discardPartial(partial, statePath);
    throw new DownloadError('size-mismatch', url, `${url} is ${total} bytes but ${opts.expectedSize === expected ? 'the manifest' : 'the server'} says ${expected}: the file changed or the URL is wrong. Nothing was kept; check the manifest entry.`);
  }

  // Free space, before a byte is written.
  const remaining = (total ?? expected ?? 0) - have;
  await checkDiskSpace(opts, remaining, url);

  const validator = res.headers.get('etag') ?? res.headers.get('last-modified');
  await writeState(statePath, { url, validator, totalBytes: total });

  const limit = sizeLimit(opts, expected, total);
  if (limit !== null && have > limit) {
    await res.body?.cancel();
    await discardPartial(partial, statePath);
    throw new DownloadError('size-mismatch', url, `The partial download of ${url} (${have} bytes) is larger than the model (${limit} bytes); it was deleted. Run the download again.`);
  }
  const hash = createHash('sha256');
  if (have > 0) await hashInto(hash, partial);
  else await writeFile(partial, new Uint8Array(0));
  const fh = await open(partial, 'a');
  let received = have;
  const meter = rateMeter();
  const report = throttle(opts.onProgress);
  report({ receivedBytes: received, totalBytes: total, bytesPerSecond: 0 }, true);
  // A server that stops sending (without closing) must not hang the download forever.
  const stallMs = opts.stallTimeoutMs ?? 30_000;
  let stalled = false;
  const body = res.body;
  let stallTimer: NodeJS.Timeout | undefined;
  const armStall = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => {
      stalled = true;
      void body?.cancel().catch(() => undefined);
    }, stallMs);
  };
  try {
    if (!body) throw new DownloadError('network', url, `${url} sent no data`);
    armStall();
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      armStall();
      if (received === 0 && chunk.length >= 4 && opts.checkGguf !== false && !isGgufMagic(chunk)) {
        throw new DownloadError('not-gguf', url, `${url} did not send a GGUF file (it starts with ${JSON.stringify(Buffer.from(chunk.subarray(0, 16)).toString('latin1'))}); a login or error page instead of the model is the usual cause. Nothing was kept.`);
      }
      if (limit !== null && received + chunk.length > limit) {
        throw new DownloadError('size-mismatch', url, `${url} sent more than the model's ${limit} bytes (${expected !== null ? 'its size in the manifest' : 'the length the server announced'}): the download was stopped and nothing was kept. The file on the server changed or the URL is wrong; check the manifest entry.`);
      }
      try {
        await fh.write(chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
          throw new DownloadError('disk-full', url, `The disk filled up while downloading ${url}: ${gb(received)} of ${total === null ? 'an unknown size' : gb(total)} written to ${dirname(opts.dest)}. Free at least ${gb((total ?? received) - received + DISK_MARGIN_BYTES)} and run the download again to resume.`);
        }
        throw err;
      }
      hash.update(chunk);
      received += chunk.length;
      report({ receivedBytes: received, totalBytes: total, bytesPerSecond: meter(chunk.length) }, false);
    }
    if (stalled) throw new Error('stalled');
    await fh.sync();
  } catch (err) {
    clearTimeout(stallTimer);
    await fh.close();
    if (err instanceof DownloadError) {
      if (err.kind === 'not-gguf' || err.kind === 'size-mismatch') {
        await body?.cancel().catch(() => undefined);
        await discardPartial(partial, statePath);
      }
      throw err;
    }
    if (stalled) {
      throw new DownloadError('network', url, `${url} sent nothing for ${Math.round(stallMs / 1000)} s after ${gb(received)}${total ? ` of ${gb(total)}` : ''}; the transfer was stopped. Run it again to resume from there.`);
    }
    if (opts.signal?.aborted) {
      throw new DownloadError('aborted', url, `Download of ${url} cancelled at ${gb(received)}${total ? ` of ${gb(total)}` : ''}; run it again to resume.`);
    }
    throw new DownloadError('network', url, `The download of ${url} broke off after ${gb(received)}${total ? ` of ${gb(total)}` : ''} (${causeOf(err)}). Run it again to resume from there.`);
  }
  clearTimeout(stallTimer);
  await fh.close();
  report({ receivedBytes: received, totalBytes: total, bytesPerSecond: meter(0) }, true);
  if (total !== null && received < total) {
    const at = gb(received) === gb(total) ? `${received} of ${total} bytes` : `${gb(received)} of ${gb(total)}`;
    throw new DownloadError('network', url, `The download of ${url} ended early at ${at}. Run it again to resume from there.`);
  }
  return finish(opts, partial, statePath, hash.digest('hex'), linkedSize, linkedSha256, resumedFrom);
}

/** Size, hash and header checks, then the atomic rename. A file that fails is deleted, never used. */
async function finish(
  opts: DownloadOptions,
  partial: string,
  statePath: string,
  sha256: string,
  linkedSize: number | null,
  linkedSha256: string | null,
  resumedFromBytes: number,
): Promise<DownloadResult> {
  const { url } = opts;
  const size = await fileSize(partial);
  const expected = exactSize(opts, linkedSize);
  if (expected !== null && size !== expected) {
    await discardPartial(partial, statePath);
    throw new DownloadError('size-mismatch', url, `${url} gave ${size} bytes but ${expected} were expected; the file was deleted. Try again, and if it repeats the manifest entry is out of date.`);
  }
  const expectedSha = opts.expectedSha256 ?? linkedSha256;
  const verifiedBy: DownloadResult['verifiedBy'] = opts.expectedSha256 ? 'manifest' : linkedSha256 ? 'server' : 'none';
  if (expectedSha && sha256 !== expectedSha) {
    await discardPartial(partial, statePath);
    throw new DownloadError('hash-mismatch', url, `${url} failed verification: its SHA-256 is ${sha256} but ${verifiedBy === 'manifest' ? 'the manifest' : 'the server'} says ${expectedSha}. The download was corrupted or altered, so it was deleted; run it again.`);
  }
  if (opts.checkGguf !== false) {
    const problem = await ggufHeaderProblem(partial);
    if (problem) {
      await discardPartial(partial, statePath);
      throw new DownloadError('not-gguf', url, `${url} is not a usable GGUF file (${problem}); it was deleted.`);
    }
  }
  await rename(partial, opts.dest);
  await rm(statePath, { force: true });
  const record: VerifiedRecord = { url, sizeBytes: size, sha256, verifiedBy, verifiedAt: new Date().toISOString(), mtimeMs: (await stat(opts.dest)).mtimeMs };
  await writeDataAtomic(opts.dest + VERIFIED_SUFFIX, JSON.stringify(record, null, 2) + '\n');
  return { path: opts.dest, sizeBytes: size, sha256, verifiedBy, resumedFromBytes };
}

// ---- HTTP ------------------------------------------------------------------------------------------------

/**
 * GET with redirects followed by hand: collects X-Linked-Size / X-Linked-Etag from any hop, resends Range and
 * If-Range on each, and keeps the token on the original host. Turns HTTP failures into messages.
 */
async function openResponse(
  opts: DownloadOptions,
  range: { from: number; validator: string | null } | null,
): Promise<{ res: Response; linkedSize: number | null; linkedSha256: string | null }> {
  const doFetch = opts.fetch ?? fetch;
  const origin = new URL(opts.url).origin;
  const token = opts.token ?? process.env.HF_TOKEN;
  let linkedSize: number | null = null;
  let linkedSha256: string | null = null;
  let current = opts.url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'hearth-model-downloader' };
    if (range) {
      headers.range = `bytes=${range.from}-`;
      if (range.validator) headers['if-range'] = range.validator;
    }
    if (token && new URL(current).origin === origin) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await doFetch(current, { headers, redirect: 'manual', signal: opts.signal ?? null });
    } catch (err) {
      if (opts.signal?.aborted) throw new DownloadError('aborted', opts.url, `Download of ${opts.url} cancelled.`);
      throw new DownloadError('network', opts.url, `Could not reach ${current} (${causeOf(err)}). Check the network connection and try again.`);
    }
    linkedSize ??= numberHeader(res.headers.get('x-linked-size'));
    if (!linkedSha256) {
      const tag = (res.headers.get('x-linked-etag') ?? '').replace(/^W\//, '').replace(/"/g, '').toLowerCase();
      if (/^[0-9a-f]{64}$/.test(tag)) linkedSha256 = tag;
    }
    if (res.status >= 300 && res.status < 400 && res.headers.has('location')) {
      await res.body?.cancel();
      current = new URL(res.headers.get('location')!, current).toString();
      continue;
    }
    if (res.ok || res.status === 416) return { res, linkedSize, linkedSha256 };
    await res.body?.cancel();
    throw httpError(opts.url, current, res.status);
  }
  throw new DownloadError('http', opts.url, `${opts.url} redirected more than ${MAX_REDIRECTS} times; the link is broken.`);
}

function httpError(url: string, at: string, status: number): DownloadError {
  const where = at === url ? url : `${url} (redirected to ${at})`;
  if (status === 401 || status === 403) {
    return new DownloadError('gated', url, `${where} refused the download (HTTP ${status}): the model is gated or needs a login. Accept its licence on the model's page, create an access token, set it in the HF_TOKEN environment variable and try again.`);
  }
  if (status === 404 || status === 410) {
    return new DownloadError('not-found', url, `${where} does not exist (HTTP ${status}): the file was renamed or removed. Update the manifest entry or choose another model.`);
  }
  return new DownloadError(status >= 500 || status === 429 ? 'network' : 'http', url, `${where} failed with HTTP ${status}. Try again later.`);
}

// ---- helpers ---------------------------------------------------------------------------------------------

function exactSize(opts: DownloadOptions, linkedSize: number | null): number | null {
  if (opts.expectedSize != null && !opts.sizeApproximate) return opts.expectedSize;
  return linkedSize;
}

async function checkDiskSpace(opts: DownloadOptions, needed: number, url: string): Promise<void> {
  const dir = dirname(opts.dest);
  let free: number;
  try {
    const s = await (opts.statfs ?? statfs)(dir);
    free = Number(s.bavail) * Number(s.bsize);
  } catch {
    return; // statfs is missing on some file systems; the write itself will report ENOSPC.
  }
  if (needed + DISK_MARGIN_BYTES > free) {
    throw new DownloadError('disk-full', url, `Not enough disk space in ${dir} for ${url}: it needs ${gb(needed)} more (plus ${gb(DISK_MARGIN_BYTES)} to spare) but only ${gb(free)} is free. Free ${gb(needed + DISK_MARGIN_BYTES - free)} or choose another models directory.`);
  }
}

function isGgufMagic(b: Uint8Array): boolean {
  return b[0] === 0x47 && b[1] === 0x47 && b[2] === 0x55 && b[3] === 0x46; // "GGUF"
}

/** Reads the fixed GGUF header: magic, version 2 or 3, plausible tensor and metadata counts. null when fine. */
export async function ggufHeaderProblem(path: string): Promise<string | null> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(24);
    const { bytesRead } = await fh.read(buf, 0, 24, 0);
    if (bytesRead < 24) return 'shorter than a GGUF header';
    if (!isGgufMagic(buf)) return 'no GGUF magic';
    const version = buf.readUInt32LE(4);
    if (version < 2 || version > 3) return `GGUF version ${version}, expected 2 or 3`;
    const tensors = buf.readBigUInt64LE(8);
    const kvs = buf.readBigUInt64LE(16);
    if (tensors > 1_000_000n || kvs > 1_000_000n) return `implausible header (${tensors} tensors, ${kvs} metadata keys)`;
    return null;
  } finally {
    await fh.close();
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function readState(path: string): Promise<PartialState | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PartialState;
  } catch {
    return null;
  }
}

async function writeState(path: string, s: PartialState): Promise<void> {
  await writeFile(path, JSON.stringify(s) + '\n');
}

async function discardPartial(partial: string, statePath: string): Promise<void> {
  await rm(partial, { force: true });
  await rm(statePath, { force: true });
}

async function hashInto(hash: Hash, path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  await hashInto(h, path);
  return h.digest('hex');
}

function numberHeader(v: string | null): number | null {
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  return Number(v);
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  return cause ? `${errorMessage(err)}: ${errorMessage(cause)}` : errorMessage(err);
}

/** Bytes per second over a sliding window of about three seconds. */
function rateMeter(): (bytes: number) => number {
  const samples: { t: number; bytes: number }[] = [];
  return (bytes) => {
    const now = Date.now();
    samples.push({ t: now, bytes });
    while (samples.length > 1 && now - samples[0]!.t > 3000) samples.shift();
    const span = Math.max(1, now - samples[0]!.t);
    return (samples.reduce((s, x) => s + x.bytes, 0) * 1000) / span;
  };
}

/** At most ten progress reports a second, plus the first and the last. */
function throttle(cb: DownloadOptions['onProgress']): (p: DownloadProgress, force: boolean) => void {
  let last = 0;
  return (p, force) => {
    if (!cb) return;
    const now = Date.now();
    if (force || now - last >= 100) {
      last = now;
      cb(p);
    }
  };
}
