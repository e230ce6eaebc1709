/**
 * `npm run test:faults`: the fault suite (issue #20). Every CLI command and the extension's node-side entry
 * points, driven into failure: wrong command lines, damaged and missing ledgers, outputs that would overwrite
 * inputs, a full disk (a file size limit), servers that send too much, too little, wrong bytes or nothing,
 * provider errors, failing ledger appends, and a killed or interrupted engine. Ends with one line:
 * RESULT {"cases":N,"inputs_changed":0,"reported_ok_on_loss":0,"stack_traces":0}
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliCases, MODEL_BYTES, type CliCase, type Fixture } from './cliCases';
import { CLI, hasStackTrace, leftoverTemps, notes, pool, REPO, runCli, totals, treeHash, writeNetGuard, type Outcome } from './faultHarness';
import { loadavg } from 'node:os';
import { inProcessCases } from './inProcessCases';

/** The model server: each path misbehaves in one way. */
function modelHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  const gguf = MODEL_BYTES;
  switch (path) {
    case '/ok.gguf':
      res.writeHead(200, { 'content-length': String(gguf.length) }).end(gguf);
      return;
    case '/more.gguf':
      res.writeHead(200); // chunked: no length announced
      res.write(gguf);
      res.end(Buffer.alloc(1024 * 1024, 1));
      return;
    case '/endless.gguf': {
      res.writeHead(200);
      res.write(gguf.subarray(0, 4096));
      const chunk = Buffer.alloc(64 * 1024, 2);
      const pump = () => { while (res.write(chunk)) { /* until the buffer is full */ } };
      res.on('drain', pump);
      req.on('close', () => res.destroy());
      pump();
      return;
    }
    case '/cl.gguf':
      res.writeHead(200, { 'content-length': '300000' }).end(Buffer.concat([gguf, Buffer.alloc(100_000)]));
      return;
    case '/stall.gguf':
      res.writeHead(200, { 'content-length': String(gguf.length) });
      res.write(gguf.subarray(0, 1000));
      req.on('close', () => res.destroy());
      return; // never more
    case '/short.gguf':
      res.writeHead(200, { 'content-length': String(gguf.length) });
      res.end(gguf.subarray(0, 5000));
      res.socket?.destroy();
      return;
    case '/bad.gguf': {
      const bad = Buffer.from(gguf);
      bad[1000] = bad[1000]! ^ 0xff;
      res.writeHead(200, { 'content-length': String(bad.length) }).end(bad);
      return;
    }
    case '/html.gguf':
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Sign in</title>');
      return;
    case '/401.gguf':
      res.writeHead(401).end('login');
      return;
    default:
      res.writeHead(404).end('not found');
  }
}

function listen(server: http.Server | https.Server): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

describe('fault suite (issue #20)', function () {
  this.timeout(600_000);
  const root = mkdtempSync(join(tmpdir(), 'hearth-faults-'));
  const runtimeDir = join(root, 'run');
  const netGuard = writeNetGuard(root);
  // HEARTH_FAULTS_GREP=text runs only the cases whose name contains it (while working on one area).
  const only = process.env.HEARTH_FAULTS_GREP;
  const cases = cliCases().filter((c) => !only || c.name.includes(only));
  const inProc = inProcessCases().filter((c) => !only || c.name.includes(only));
  const results = new Map<string, string[]>();
  const timings = new Map<string, number>();
  let httpServer: http.Server;
  let httpsServer: https.Server | undefined;
  let httpBase = '';
  let httpsBase: string | undefined;
  let caFile: string | undefined;
  let started = 0;

  before(async function () {
    started = Date.now();
    assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
    mkdirSync(runtimeDir, { mode: 0o700 });
    httpServer = http.createServer(modelHandler);
    httpBase = `http://127.0.0.1:${await listen(httpServer)}`;
    // Manifest URLs must be https: a self-signed certificate for 127.0.0.1, trusted by the children only.
    try {
      const key = join(root, 'key.pem');
      caFile = join(root, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', caFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      httpsServer = https.createServer({ key: readFileSync(key), cert: readFileSync(caFile) }, modelHandler);
      httpsBase = `https://127.0.0.1:${await listen(httpsServer)}`;
    } catch {
      caFile = undefined; // no openssl: the HTTPS download cases are skipped (and reported)
    }

    const runCase = async (c: CliCase, i: number): Promise<void> => {
      const failures: string[] = [];
      const dir = join(root, `c${i}`, 'work');
      const stateDir = join(root, `c${i}`, 'state');
      mkdirSync(dir, { recursive: true });
      mkdirSync(stateDir);
      const f: Fixture = { dir, stateDir, http: httpBase, https: httpsBase, repo: REPO, runtimeDir };
      await c.setup?.(f);
      const outputs = c.outputs ?? [];
      const before = treeHash(dir, outputs);
      const beforeAll = treeHash(dir);
      const existedBefore = new Map(outputs.map((o) => [o, existsSync(join(dir, o))]));
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH, HOME: join(root, `c${i}`), HEARTH_STATE_DIR: stateDir, HEARTH_RUNTIME_DIR: runtimeDir,
        HEARTH_MODELS_DIR: join(dir, 'models-default'), HF_TOKEN: '', LANG: 'C.UTF-8',
        ...(caFile ? { NODE_EXTRA_CA_CERTS: caFile } : {}),
        ...c.env,
      };
      const args = typeof c.args === 'function' ? c.args(f) : c.args;
      const o: Outcome = await runCli(args, { cwd: dir, env, netGuard, ulimitBlocks: c.ulimitBlocks, sigintOnStdoutBytes: c.sigintOnStdoutBytes, onStdout: c.onStdout && ((n) => c.onStdout!(f, n)), timeoutMs: c.timeoutMs ?? 60_000 });
      timings.set(c.name, o.ms);
      const text = o.stdout + o.stderr;
      const show = () => `\n--- exit ${o.code}, output:\n${text.slice(0, 1500)}`;
      if (o.code !== c.code) failures.push(`exit ${o.code}, expected ${c.code}${show()}`);
      if (c.loss && o.code === 0) totals.reported_ok_on_loss++;
      if (c.msg && !c.msg.test(text)) failures.push(`message does not match ${c.msg}${show()}`);
      if (hasStackTrace(text)) {
        totals.stack_traces++;
        failures.push(`a stack trace was printed${show()}`);
      }
      const failed = o.code !== 0;
      const after = failed && !c.outputOnFailure ? treeHash(dir) : treeHash(dir, outputs);
      if ((failed && !c.outputOnFailure ? beforeAll : before) !== after) {
        // Which inputs changed is the useful part: compare without each output in turn.
        totals.inputs_changed++;
        failures.push(failed && !c.outputOnFailure ? 'the failed command changed the folder (an input, or a partial output)' : 'an input changed');
      }
      for (const out of outputs) if (failed && !c.outputOnFailure && !existedBefore.get(out) && existsSync(join(dir, out))) failures.push(`the failed command left ${out} behind`);
      const temps = leftoverTemps(dir).filter((p) => !p.endsWith('.partial'));
      if (temps.length) failures.push(`temporary files left: ${temps.join(', ')}`);
      if (o.net.length) failures.push(`connections off the machine: ${o.net.join(', ')}`);
      const extra = await c.check?.(f, o);
      if (extra) failures.push(extra);
      results.set(c.name, failures);
    };

    // Engine cases share one engine: run them one after another, after the rest.
    const plain = cases.filter((c) => !c.engine);
    const engine = cases.filter((c) => c.engine);
    await pool(plain, 4, async (c) => {
      if (c.needsHttps && !httpsBase) {
        results.set(c.name, ['skipped: openssl is missing, so no HTTPS server']);
        return;
      }
      await runCase(c, cases.indexOf(c)).catch((err: unknown) => results.set(c.name, [`harness error: ${err instanceof Error ? err.stack : String(err)}`]));
    });
    for (const c of engine) await runCase(c, cases.indexOf(c)).catch((err: unknown) => results.set(c.name, [`harness error: ${String(err)}`]));
    await pool(inProc, 4, async (c) => {
      const t0 = Date.now();
      try {
        const message = await c.run();
        if (typeof message === 'string' && hasStackTrace(message)) {
          totals.stack_traces++;
          results.set(c.name, [`a stack trace in the message: ${message.slice(0, 500)}`]);
        } else results.set(c.name, []);
      } catch (err) {
        results.set(c.name, [err instanceof Error ? err.message : String(err)]);
      }
      timings.set(c.name, Date.now() - t0);
    });
  });

  after(async () => {
    // Stop the engine the engine cases started (its pid is in our own runtime folder), then the servers.
    try {
      const info = JSON.parse(readFileSync(join(runtimeDir, 'engine.json'), 'utf8')) as { pid: number };
      process.kill(info.pid, 'SIGTERM');
    } catch {
      // none started, or already gone
    }
    httpServer?.closeAllConnections();
    httpServer?.close();
    httpsServer?.closeAllConnections();
    httpsServer?.close();
    const skipped = [...results.values()].filter((f) => f[0]?.startsWith('skipped')).length;
    totals.cases = cases.length + inProc.length - skipped;
    const slowest = [...timings].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([n, ms]) => `${ms} ms ${n}`);
    process.stdout.write(`fault suite: ${totals.cases} cases run${skipped ? `, ${skipped} skipped (no openssl)` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s; slowest: ${slowest.join(' | ')}\n`);
    for (const n of notes) process.stdout.write(`  ${n}\n`);
    process.stdout.write(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    process.stdout.write(`RESULT ${JSON.stringify(totals)}\n`);
    rmSync(root, { recursive: true, force: true });
  });

  for (const c of [...cases, ...inProc]) {
    it(c.name, function () {
      const failures = results.get(c.name);
      if (failures?.[0]?.startsWith('skipped')) this.skip();
      assert.ok(failures, 'the case did not run');
      assert.deepEqual(failures, [], failures.join('\n'));
    });
  }
});
