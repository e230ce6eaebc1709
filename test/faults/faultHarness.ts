/**
 * The fault suite's harness: runs the built CLI (dist/cli.js) as a user would, in a fresh folder per case, and
 * checks what every case must hold whatever it tests: the exit-code class, a message naming the thing, no stack
 * trace, inputs byte-identical (a tree hash before and after), no partial or temporary output, and no connection
 * to anything but this machine (a preloaded guard records and refuses any non-loopback connect).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '../../..');
export const CLI = join(REPO, 'dist', 'cli.js');

/** Figures worth printing at the end (e.g. how fast Ctrl-C stopped the engine). */
export const notes: string[] = [];

/** Counters of the RESULT line. */
export const totals = { cases: 0, inputs_changed: 0, reported_ok_on_loss: 0, stack_traces: 0 };

/** Written once per suite run: loaded into every child with --require. */
export function writeNetGuard(dir: string): string {
  const file = join(dir, 'netGuard.js');
  writeFileSync(file, `
const net = require('node:net');
const fs = require('node:fs');
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '::ffff:127.0.0.1', undefined, '']);
const orig = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const o = args[0];
  let host, path;
  if (Array.isArray(o)) { host = o[0] && o[0].host; path = o[0] && o[0].path; }
  else if (o && typeof o === 'object') { host = o.host; path = o.path; }
  else if (typeof o === 'string' && isNaN(Number(o))) path = o;
  else host = typeof args[1] === 'string' ? args[1] : undefined;
  if (!path && !LOOPBACK.has(host)) {
    if (process.env.HEARTH_NET_LOG) fs.appendFileSync(process.env.HEARTH_NET_LOG, String(host) + '\\n');
    const s = this; process.nextTick(() => s.destroy(new Error('fault suite: connection to ' + host + ' refused (nothing may leave the machine)')));
    return this;
  }
  return orig.apply(this, args);
};
`);
  return file;
}

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  /** Milliseconds from the SIGINT we sent to the exit, when one was sent. */
  sigintToExitMs?: number;
  net: string[];
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  netGuard: string;
  /** `ulimit -f` in 512-byte blocks for the child (a full disk, as far as the child can tell). */
  ulimitBlocks?: number;
  /** Send SIGINT once stdout has this many bytes (or after `sigintAfterMs`). */
  sigintOnStdoutBytes?: number;
  sigintAfterMs?: number;
  /** Called with the child's stdout length as it grows (e.g. to kill the engine mid-stream). */
  onStdout?: (total: number) => void;
  timeoutMs?: number;
}

/** Runs `node dist/cli.js ...args` in `cwd`; never rejects. */
export function runCli(args: string[], o: RunOptions): Promise<Outcome> {
  const netLog = join(o.cwd, '..', `net-${Math.random().toString(36).slice(2)}.log`);
  const nodeArgs = ['--require', o.netGuard, CLI, ...args];
  const env = { ...o.env, HEARTH_NET_LOG: netLog };
  const child = o.ulimitBlocks !== undefined
    ? spawn('bash', ['-c', `ulimit -f ${o.ulimitBlocks}; exec "$0" "$@"`, process.execPath, ...nodeArgs], { cwd: o.cwd, env })
    : spawn(process.execPath, nodeArgs, { cwd: o.cwd, env });
  const t0 = Date.now();
  let stdout = '';
  let stderr = '';
  let sigintAt: number | undefined;
  const sigint = () => {
    if (sigintAt === undefined) {
      sigintAt = Date.now();
      child.kill('SIGINT');
    }
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
    o.onStdout?.(stdout.length);
    if (o.sigintOnStdoutBytes !== undefined && stdout.length >= o.sigintOnStdoutBytes) sigint();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const sigTimer = o.sigintAfterMs !== undefined ? setTimeout(sigint, o.sigintAfterMs) : undefined;
  const killTimer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  return new Promise((res) => {
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      if (sigTimer) clearTimeout(sigTimer);
      const now = Date.now();
      const net = existsSync(netLog) ? readFileSync(netLog, 'utf8').split('\n').filter(Boolean) : [];
      res({ code: code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15) : -1), stdout, stderr, ms: now - t0, sigintToExitMs: sigintAt === undefined ? undefined : now - sigintAt, net });
    });
  });
}

const BIG = 64 * 1024 * 1024;

/** Hash of a tree as stored (lstat: links are hashed as links, never followed), leaving out `exclude` (relative). */
export function treeHash(root: string, exclude: readonly string[] = []): string {
  const h = createHash('sha256');
  const skip = new Set(exclude.map((e) => resolve(root, e)));
  const walk = (p: string, rel: string) => {
    if (skip.has(p)) return;
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isSymbolicLink()) h.update(`L ${rel} ${readlinkSync(p)}\n`);
    else if (st.isDirectory()) {
      h.update(`D ${rel} ${st.mode & 0o777}\n`);
      for (const name of readdirSync(p).sort()) walk(join(p, name), `${rel}/${name}`);
    } else if (st.isFile()) {
      h.update(`F ${rel} ${st.size} ${st.mode & 0o777}\n`);
      if (st.size <= BIG) h.update(readFileSync(p));
      else {
        // A multi-GB (sparse) input: its mtime, inode and both ends stand for the bytes (reading it all costs seconds).
        h.update(`${st.mtimeMs} ${st.ino}`);
        const fd = openSync(p, 'r');
        const buf = Buffer.alloc(1 << 20);
        readSync(fd, buf, 0, buf.length, 0);
        h.update(buf);
        readSync(fd, buf, 0, buf.length, st.size - buf.length);
        h.update(buf);
        closeSync(fd);
      }
    } else h.update(`O ${rel}\n`);
  };
  walk(root, '.');
  return h.digest('hex');
}

/** Temporary files the safe-output module makes; none may survive a command. */
export function leftoverTemps(root: string): string[] {
  const found: string[] = [];
  const walk = (p: string) => {
    for (const name of readdirSync(p)) {
      const q = join(p, name);
      if (/\.hearth-(tmp|staging|old)-[0-9a-f]+$/.test(name) || name.endsWith('.partial')) found.push(q);
      const st = lstatSync(q);
      if (st.isDirectory() && !st.isSymbolicLink()) walk(q);
    }
  };
  if (existsSync(root)) walk(root);
  return found;
}

/** A stack trace in output: "    at fn (file:line:col)" lines or node's internal frames. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+(:\d+:\d+\)?|\(node:internal)/m.test(text) || /node:internal\//.test(text);
}

export function mkdirp(p: string): string {
  mkdirSync(p, { recursive: true });
  return p;
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
}
