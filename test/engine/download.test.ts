/**
 * The model downloader against an HTTP server on 127.0.0.1 that behaves like Hugging Face: a `resolve/` URL
 * answers 302 with X-Linked-Size / X-Linked-Etag and sends the client to a "CDN" path that serves the file
 * with Range support and an ETag.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { download, DownloadError, downloadModel, type DownloadProgress } from '../../src/node/models/modelDownloader';
import { ModelStore } from '../../src/node/models/modelStore';
import type { ModelEntry, ModelManifest } from '../../src/common/models/modelManifest';
import { makeModel, tinyDense } from '../fixtures/gguf/makeModel';

interface Behaviour {
  /** Destroy the socket after this many body bytes, on the next this-many GET requests of the file. */
  dropAfterBytes?: number;
  dropTimes?: number;
  /** Flip one byte in what is served (the headers still describe the real file). */
  flipByteAt?: number;
  /** Serve this many bytes fewer than the headers promise in X-Linked-Size (and send no Content-Length). */
  truncateBy?: number;
  /** Milliseconds between 16 KiB chunks. */
  slowMs?: number;
  /** Ignore Range headers (always 200). */
  noRange?: boolean;
}

interface LoggedRequest {
  method: string;
  path: string;
  range: string | undefined;
  ifRange: string | undefined;
  auth: string | undefined;
}

class FakeHub {
  server!: Server;
  base = '';
  requests: LoggedRequest[] = [];
  behaviour: Behaviour = {};
  constructor(
    readonly file: Buffer,
    readonly sha256: string,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push({ method: req.method ?? 'GET', path, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, auth: req.headers.authorization });
    if (path === '/org/model/resolve/main/model.gguf') {
      res.writeHead(302, {
        location: '/cdn/blobs/model.gguf?signature=abc',
        'x-linked-size': String(this.file.length),
        'x-linked-etag': `"${this.sha256}"`,
        'x-repo-commit': 'deadbeef',
      });
      res.end();
      return;
    }
    if (path === '/gated/resolve/main/model.gguf') {
      res.writeHead(req.headers.authorization === 'Bearer good-token' ? 302 : 401, { location: '/cdn/blobs/model.gguf' });
      res.end('Access to model is restricted');
      return;
    }
    if (path === '/html/model.gguf') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html>please log in</html>');
      return;
    }
    if (path !== '/cdn/blobs/model.gguf') {
      res.writeHead(404);
      res.end('Entry not found');
      return;
    }
    const b = this.behaviour;
    let body = this.file;
    if (b.flipByteAt !== undefined) {
      body = Buffer.from(body);
      body[b.flipByteAt] = body[b.flipByteAt]! ^ 0xff;
    }
    if (b.truncateBy) body = body.subarray(0, body.length - b.truncateBy);
    const etag = `"cdn-${this.sha256.slice(0, 12)}"`;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRangeOk = req.headers['if-range'] === undefined || req.headers['if-range'] === etag;
    let start = 0;
    if (m && !b.noRange && ifRangeOk) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        res.end();
        return;
      }
      res.writeHead(206, {
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'content-length': String(body.length - start),
        etag,
        'accept-ranges': 'bytes',
      });
    } else {
      res.writeHead(200, { ...(b.truncateBy ? {} : { 'content-length': String(body.length) }), etag, 'accept-ranges': 'bytes' });
    }
    const data = body.subarray(start);
    const drop = b.dropAfterBytes !== undefined && (b.dropTimes ?? 1) > 0;
    if (drop) b.dropTimes = (b.dropTimes ?? 1) - 1;
    void this.send(res, data, drop ? b.dropAfterBytes! : Infinity, b.slowMs ?? 0);
  }

  private async send(res: ServerResponse, data: Buffer, dropAfter: number, slowMs: number): Promise<void> {
    const CHUNK = 16 * 1024;
    for (let off = 0; off < data.length; off += CHUNK) {
      if (res.destroyed) return;
      const end = Math.min(data.length, off + CHUNK);
      if (end > dropAfter) {
        res.write(data.subarray(off, dropAfter));
        await new Promise((r) => setTimeout(r, 20));
        res.socket?.destroy();
        return;
      }
      if (!res.write(data.subarray(off, end))) await new Promise((r) => res.once('drain', r));
      if (slowMs) await new Promise((r) => setTimeout(r, slowMs));
    }
    res.end();
  }
}

const bigDisk = async () => ({ bavail: 1e12 / 4096, bsize: 4096 });

describe('model downloader (local HTTP server)', function () {
  this.timeout(60_000);
  let dir: string;
  let hub: FakeHub;
  let file: Buffer;
  let sha256: string;
  let n = 0;
  const dest = () => join(dir, `m${++n}`, 'model.gguf');
  const resolveUrl = () => `${hub.base}/org/model/resolve/main/model.gguf`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-download-'));
    const src = join(dir, 'source.gguf');
    // A few hundred KB, so a transfer spans many chunks and can be cut in the middle.
    await makeModel(src, { ...tinyDense, nEmbd: 128, nFf: 256, quant: 'f32' });
    file = readFileSync(src);
    sha256 = createHash('sha256').update(file).digest('hex');
    hub = new FakeHub(file, sha256);
    await hub.start();
  });
  after(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    hub.behaviour = {};
    hub.requests = [];
  });

  it('follows the redirect and verifies with X-Linked-Size / X-Linked-Etag', async () => {
    const d = dest();
    const progress: DownloadProgress[] = [];
    const r = await download({ url: resolveUrl(), dest: d, onProgress: (p) => progress.push(p), statfs: bigDisk });
    assert.equal(r.sha256, sha256);
    assert.equal(r.verifiedBy, 'server');
    assert.equal(r.sizeBytes, file.length);
    assert.ok(readFileSync(d).equals(file));
    assert.ok(!existsSync(d + '.partial'));
    assert.equal(progress.at(-1)?.receivedBytes, file.length);
    assert.equal(progress.at(-1)?.totalBytes, file.length);
    assert.deepEqual(hub.requests.map((q) => q.path), ['/org/model/resolve/main/model.gguf', '/cdn/blobs/model.gguf']);
  });

  it('resumes an interrupted transfer with Range and If-Range, ending with the right SHA-256', async () => {
    const d = dest();
    const cut = Math.floor(file.length / 3);
    hub.behaviour = { dropAfterBytes: cut, dropTimes: 1 };
    await assert.rejects(
      download({ url: resolveUrl(), dest: d, retries: 0, statfs: bigDisk }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'network' && /broke off after .* Run it again to resume/.test(e.message),
    );
    assert.ok(!existsSync(d), 'nothing at the final path after an interruption');
    const kept = statSync(d + '.partial').size;
    assert.ok(kept > 0 && kept <= cut, `partial ${kept} bytes`);

    hub.requests = [];
    const r = await download({ url: resolveUrl(), dest: d, statfs: bigDisk });
    assert.equal(r.resumedFromBytes, kept);
    assert.equal(r.sha256, sha256);
    assert.ok(readFileSync(d).equals(file));
    const cdn = hub.requests.filter((q) => q.path.startsWith('/cdn/'));
    assert.equal(cdn.length, 1);
    assert.equal(cdn[0]!.range, `bytes=${kept}-`);
    assert.match(cdn[0]!.ifRange ?? '', /^"cdn-/);
    // The Range header travels with the redirect too.
    assert.equal(hub.requests[0]!.range, `bytes=${kept}-`);
  });

  it('resumes on its own after drops within one call', async () => {
    const d = dest();
    hub.behaviour = { dropAfterBytes: 40_000, dropTimes: 2 };
    const r = await download({ url: resolveUrl(), dest: d, retries: 3, statfs: bigDisk });
    assert.equal(r.sha256, sha256);
    assert.ok(r.resumedFromBytes > 0);
    // Three transfers in one call: the first and two resumes. A resume under heavy load may find that the
    // dropped connection delivered nothing, and then starts from 0 without Range; at least one must resume.
    const transfers = hub.requests.filter((q) => q.method === 'GET' && q.path.startsWith('/cdn/'));
    assert.equal(transfers.length, 3);
    assert.ok(transfers.slice(1).some((q) => q.range), 'no transfer resumed with Range');
  });

  it('starts again when the server ignores the Range request', async () => {
    const d = dest();
    hub.behaviour = { dropAfterBytes: 50_000, dropTimes: 1, noRange: true };
    await assert.rejects(download({ url: resolveUrl(), dest: d, retries: 0, statfs: bigDisk }));
    const r = await download({ url: resolveUrl(), dest: d, statfs: bigDisk });
    assert.equal(r.resumedFromBytes, 0);
    assert.ok(readFileSync(d).equals(file));
  });

  it('rejects a flipped byte and deletes the partial file: nothing at the final path', async () => {
    const d = dest();
    hub.behaviour = { flipByteAt: Math.floor(file.length / 2) };
    await assert.rejects(
      download({ url: resolveUrl(), dest: d, statfs: bigDisk }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'hash-mismatch' && e.message.includes(sha256) && e.message.includes(resolveUrl()),
    );
    assert.ok(!existsSync(d), 'the corrupt file must not be at the final path');
    assert.ok(!existsSync(d + '.partial'), 'the corrupt partial file must be deleted');
    assert.ok(!existsSync(d + '.verified.json'));
  });

  it('rejects a flipped byte against the manifest hash even without server headers', async () => {
    const d = dest();
    hub.behaviour = { flipByteAt: 100 };
    await assert.rejects(
      download({ url: `${hub.base}/cdn/blobs/model.gguf`, dest: d, expectedSha256: sha256, statfs: bigDisk }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'hash-mismatch' && /the manifest says/.test(e.message),
    );
    assert.ok(!existsSync(d) && !existsSync(d + '.partial'));
  });

  it('rejects a wrong size: a short body, and a manifest size the server contradicts', async () => {
    const d = dest();
    hub.behaviour = { truncateBy: 1000 };
    // The body ends 1,000 bytes short of X-Linked-Size: that could be a dropped connection, so the downloader
    // asks for the rest, the server has nothing more (416), and the size check rejects the file.
    await assert.rejects(
      download({ url: resolveUrl(), dest: d, statfs: bigDisk }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'size-mismatch' && e.message.includes(`${file.length - 1000} bytes`),
    );
    assert.ok(!existsSync(d) && !existsSync(d + '.partial'));

    hub.behaviour = {};
    const d2 = dest();
    await assert.rejects(
      download({ url: resolveUrl(), dest: d2, expectedSize: file.length + 1, statfs: bigDisk }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'size-mismatch' && /the manifest says/.test(e.message),
    );
    assert.ok(!existsSync(d2));
  });

  it('cancels with an AbortSignal, keeping the partial file for a later resume', async () => {
    const d = dest();
    hub.behaviour = { slowMs: 20 };
    const ac = new AbortController();
    let seen = 0;
    const p = download({
      url: resolveUrl(), dest: d, signal: ac.signal, statfs: bigDisk,
      onProgress: (pr) => {
        seen = pr.receivedBytes;
        if (pr.receivedBytes > 30_000) ac.abort();
      },
    });
    await assert.rejects(p, (e: unknown) => e instanceof DownloadError && e.kind === 'aborted' && /cancelled/.test(e.message));
    assert.ok(seen > 0 && seen < file.length);
    assert.ok(!existsSync(d));
    hub.behaviour = {};
    const r = await download({ url: resolveUrl(), dest: d, statfs: bigDisk });
    assert.ok(r.resumedFromBytes > 0);
    assert.equal(r.sha256, sha256);
  });

  it('reports too little disk space with the numbers, before writing anything', async () => {
    const d = dest();
    await assert.rejects(
      download({ url: resolveUrl(), dest: d, statfs: async () => ({ bavail: 10, bsize: 4096 }) }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'disk-full' && /needs \d+\.\d MB more .* only 41\.0 kB is free/.test(e.message),
    );
    assert.ok(!existsSync(d) && !existsSync(d + '.partial'));
  });

  it('404 and 401 produce messages that name the URL and say what to do', async () => {
    const missing = `${hub.base}/org/model/resolve/main/missing.gguf`;
    await assert.rejects(
      download({ url: missing, dest: dest(), statfs: bigDisk }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'not-found' && e.message.includes(missing) && /HTTP 404/.test(e.message),
    );
    const gated = `${hub.base}/gated/resolve/main/model.gguf`;
    await assert.rejects(
      download({ url: gated, dest: dest(), statfs: bigDisk, token: '' }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'gated' && e.message.includes(gated) && /HF_TOKEN/.test(e.message),
    );
    // With a token the gated hop lets it through.
    hub.requests = [];
    const r = await download({ url: gated, dest: dest(), statfs: bigDisk, token: 'good-token', expectedSha256: sha256 });
    assert.equal(r.verifiedBy, 'manifest');
    assert.equal(hub.requests[0]!.auth, 'Bearer good-token');
  });

  it('refuses a page that is not a GGUF file', async () => {
    const d = dest();
    await assert.rejects(
      download({ url: `${hub.base}/html/model.gguf`, dest: d, statfs: bigDisk }),
      (e: unknown) => e instanceof DownloadError && e.kind === 'not-gguf' && /login or error page/.test(e.message),
    );
    assert.ok(!existsSync(d) && !existsSync(d + '.partial'));
  });

  it('downloads a manifest entry into the store, which lists it as verified, resolves and deletes it', async () => {
    const modelsDir = join(dir, 'store');
    const entry = {
      id: 'tiny-test', name: 'Tiny test', format: 'gguf', url: resolveUrl(), sizeBytes: file.length, sha256,
    } as unknown as ModelEntry;
    const manifest = { version: 1, models: [entry] } as unknown as ModelManifest;
    const r = await downloadModel(entry, modelsDir, { statfs: bigDisk });
    assert.equal(r.verifiedBy, 'manifest');
    writeFileSync(join(modelsDir, 'hand-copied.gguf'), file);
    writeFileSync(join(modelsDir, 'other.gguf.partial'), file.subarray(0, 10));
    const store = new ModelStore(modelsDir, manifest);
    const listed = await store.list();
    assert.deepEqual(
      listed.map((m) => [m.id, m.verified, m.partial, m.sizeBytes]),
      [[null, false, false, file.length], ['tiny-test', true, false, file.length], [null, false, true, 10]],
    );
    assert.equal(await store.resolvePath('tiny-test'), join(modelsDir, 'tiny-test.gguf'));
    assert.equal(await store.delete('tiny-test'), true);
    assert.equal(await store.resolvePath('tiny-test'), undefined);
    assert.ok(!existsSync(join(modelsDir, 'tiny-test.gguf.verified.json')));
    assert.equal(await store.delete('tiny-test'), false);
    await assert.rejects(store.delete('../etc'), /not a model id/);
  });
});
