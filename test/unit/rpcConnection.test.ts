import * as assert from 'node:assert/strict';
import { createConnection, createServer, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { RpcConnection, RpcError } from '../../src/node/engine/rpcConnection';
import { nullLogger } from '../../src/common/logger';

function pair() {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  return { a: new RpcConnection(bToA, aToB, nullLogger), b: new RpcConnection(aToB, bToA, nullLogger), aToB, bToA };
}

describe('RpcConnection', () => {
  it('answers requests and carries errors with their code', async () => {
    const { a, b } = pair();
    b.onRequest('double', async (p) => (p as { n: number }).n * 2);
    b.onRequest('fail', async () => {
      throw new RpcError(-32001, 'no model');
    });
    assert.equal(await a.request('double', { n: 21 }), 42);
    await assert.rejects(a.request('fail', {}), (e: unknown) => e instanceof RpcError && e.code === -32001 && e.message === 'no model');
    await assert.rejects(a.request('missing', {}), /unknown method missing/);
  });

  it('delivers notifications and survives garbage lines', async () => {
    const { a, b, aToB } = pair();
    const got: unknown[] = [];
    b.onNotification('tick', (p) => got.push(p));
    aToB.write('this is not json\n');
    aToB.write('{"jsonrpc":"2.0","weird":true}\n');
    a.notify('tick', { n: 1 });
    b.onRequest('ping', async () => 'pong');
    assert.equal(await a.request('ping', {}), 'pong');
    assert.deepEqual(got, [{ n: 1 }]);
  });

  it('fails pending requests when closed', async () => {
    const { a, b } = pair();
    b.onRequest('never', () => new Promise(() => {}));
    const pending = a.request('never', {});
    a.close(new Error('engine exited'));
    await assert.rejects(pending, /engine exited/);
    await assert.rejects(a.request('again', {}), /closed/);
  });

  it('fails requests on a socket the peer reset, without an uncaught error (the readline reading it too)', async () => {
    // The engine exiting while a window restarts it (settings changed during a load): the socket's error reached the
    // readline interface reading it, which threw it when nobody listened (uncaught EPIPE / ECONNRESET).
    const server = createServer((peer) => peer.once('data', () => peer.resetAndDestroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const uncaught: unknown[] = [];
    const record = (err: unknown) => uncaught.push(err);
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', record);
    try {
      const { port } = server.address() as { port: number };
      const socket = await new Promise<Socket>((resolve) => {
        const s = createConnection(port, '127.0.0.1', () => resolve(s));
      });
      const c = new RpcConnection(socket, socket, nullLogger, false);
      // As EngineClient: the socket's close ends the connection (its input's end does not).
      socket.once('close', () => c.close(new Error('engine closed the connection')));
      const first = c.request('loadModel', {}).then(() => 'answered', (e: unknown) => e);
      await new Promise((r) => setTimeout(r, 30));
      const second = c.request('shutdown', {}).then(() => 'answered', (e: unknown) => e);
      const failures = await Promise.all([first, second]);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(uncaught, []);
      assert.ok(failures.every((f) => f instanceof Error), `every request fails: ${failures.map(String).join('; ')}`);
      assert.ok(c.isClosed);
    } finally {
      process.removeListener('uncaughtException', record);
      for (const l of listeners) process.on('uncaughtException', l);
      server.close();
    }
  });
});
