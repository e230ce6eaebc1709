import * as assert from 'node:assert/strict';
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
});
