import * as assert from 'node:assert/strict';
import { chooseThreads, LoadMonitor, nativeOpenmpEnv, openmpWaits, othersBusyBetween, parsePidStat, parseProcStat, parseRunnable, type CpuCounters } from '../../src/node/engine/threads';

describe('chooseThreads', () => {
  it('uses every core on an idle machine', () => assert.equal(chooseThreads(4, 0.1), 4));
  it('leaves busy cores to what holds them', () => assert.equal(chooseThreads(2, 1.2), 1));
  it('never goes below one thread', () => assert.equal(chooseThreads(2, 7), 1));
  it('gives up a thread for half a core of other work (a shared core stalls every layer), not for a little', () => {
    assert.equal(chooseThreads(4, 0.4), 4);
    assert.equal(chooseThreads(4, 0.6), 3);
    assert.equal(chooseThreads(8, 2.4), 6);
  });
});

describe('load from other processes (/proc)', () => {
  it('counts user, system, irq, softirq and steal; niced work only when the engine is niced itself', () => {
    const stat = 'cpu  100 50 30 1000 7 2 3 4 0 0\ncpu0 1 2 3 4\n';
    assert.equal(parseProcStat(stat, false), 100 + 30 + 2 + 3 + 4);
    assert.equal(parseProcStat(stat, true), 100 + 50 + 30 + 2 + 3 + 4);
  });

  it('reads utime, stime and the policy after a command name holding spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[11] = '120'; // utime (field 14)
    fields[12] = '30'; // stime (field 15)
    fields[38] = '5'; // policy (field 41): SCHED_IDLE
    const line = `4242 (my (odd) prog) ${fields.join(' ')}`;
    assert.deepEqual(parsePidStat(line), { ticks: 150, policy: 5 });
  });

  it("subtracts the engine's own time and SCHED_IDLE processes' time", () => {
    const a: CpuCounters = { busy: 1000, own: 100, yielding: 50, at: 0 };
    // In 1 s: 180 busy ticks, of which 60 the engine's own and 30 a SCHED_IDLE training run: 0.9 cores of others.
    const b: CpuCounters = { busy: 1180, own: 160, yielding: 80, at: 1000 };
    assert.ok(Math.abs(othersBusyBetween(a, b) - 0.9) < 1e-9);
    assert.equal(othersBusyBetween(b, b), 0);
  });

  it('picks threads from the latest samples without waiting, within the ceiling', () => {
    let t = 0;
    let busy = 0;
    const monitor = new LoadMonitor(1000, () => ({ busy, own: 0, yielding: 0, at: t }), () => undefined);
    monitor.start();
    monitor.stop();
    assert.equal(monitor.threadsFor(4, 4), 4);
    t += 1000;
    busy += 100; // one core of other work
    monitor.sample();
    t += 1000;
    busy += 100;
    monitor.sample();
    assert.equal(monitor.threadsFor(4, 4), 3);
    assert.equal(monitor.threadsFor(2, 4), 2, 'the ceiling (configured or tuned threads) still bounds it');
    t += 1000; // quiet again
    monitor.sample();
    t += 1000;
    monitor.sample();
    assert.equal(monitor.threadsFor(4, 4), 4);
  });

  it('does not count a program that was busy until a moment ago: no more load than is runnable now', () => {
    let t = 0;
    let busy = 0;
    let runnable = 0;
    const monitor = new LoadMonitor(1000, () => ({ busy, own: 0, yielding: 0, at: t }), () => runnable);
    monitor.start();
    monitor.stop();
    for (let i = 0; i < 3; i++) {
      t += 1000;
      busy += 200; // two cores of other work for three seconds…
      monitor.sample();
    }
    assert.equal(monitor.threadsFor(4, 4), 4, '…that stopped just now (nothing runnable): every thread');
    runnable = 2;
    assert.equal(monitor.threadsFor(4, 4), 2, 'still running: two threads left');
    runnable = 5; // five runnable, but only about two cores' worth of CPU time (the rest yield, e.g. SCHED_IDLE)
    assert.equal(monitor.threadsFor(4, 4), 2);
    assert.equal(monitor.lastLoad, monitor.othersBusy);
  });

  it('tells its listener after every sample, so a running request re-chooses its threads between two batches', () => {
    let t = 0;
    let busy = 0;
    const monitor = new LoadMonitor(1000, () => ({ busy, own: 0, yielding: 0, at: t }), () => undefined);
    const seen: number[] = [];
    monitor.onSample = () => seen.push(monitor.threadsFor(2, 2));
    monitor.start();
    monitor.stop();
    t += 1000;
    monitor.sample();
    t += 1000;
    busy += 100; // a program starts spinning on one core
    monitor.sample();
    assert.deepEqual(seen, [2, 1]);
  });
});

describe('runnable threads (/proc/loadavg)', () => {
  it('reads the running count of the fourth field', () => {
    assert.equal(parseRunnable('5.74 7.06 8.29 6/149 19150\n'), 6);
    assert.equal(parseRunnable('garbage'), undefined);
  });
});

describe("nativeOpenmpEnv (the native build engine's OpenMP settings)", () => {
  it('one libuv worker and a long spin where the environment sets neither', () => {
    assert.deepEqual(nativeOpenmpEnv({}), { UV_THREADPOOL_SIZE: '1', GOMP_SPINCOUNT: '1000000' });
    assert.match(openmpWaits({ ...nativeOpenmpEnv({}) }, 2, 2), /spin 1,000,000 then sleep \(1 libuv worker, one team;/);
  });
  it("the user's own settings win, and a wait policy of theirs keeps libgomp's spin for it", () => {
    assert.deepEqual(nativeOpenmpEnv({ UV_THREADPOOL_SIZE: '4' }), { GOMP_SPINCOUNT: '1000000' });
    assert.deepEqual(nativeOpenmpEnv({ GOMP_SPINCOUNT: '300' }), { UV_THREADPOOL_SIZE: '1' });
    assert.deepEqual(nativeOpenmpEnv({ OMP_WAIT_POLICY: 'passive' }), { UV_THREADPOOL_SIZE: '1' });
  });
});

describe('openmpWaits (how the native build waits, for the log and tooltip)', () => {
  it("libuv's 4 workers: one team each, more OpenMP threads than cores, so libgomp's throttled 100 spins", () => {
    assert.match(openmpWaits({}, 2, 2), /^OpenMP waits spin 100 then sleep \(4 libuv workers, throttled: more OpenMP threads than cores; defaults\)$/);
  });
  it('one worker at threads = cores: one team, GOMP_SPINCOUNT or the default 300,000', () => {
    assert.match(openmpWaits({ UV_THREADPOOL_SIZE: '1' }, 2, 2), /spin 300,000 then sleep \(1 libuv worker, one team; UV_THREADPOOL_SIZE=1\)/);
    assert.match(openmpWaits({ UV_THREADPOOL_SIZE: '1', GOMP_SPINCOUNT: '10000' }, 2, 2), /spin 10,000 then sleep/);
  });
  it('OMP_WAIT_POLICY=active raises the throttled count to 1000, never above GOMP_SPINCOUNT; passive never spins', () => {
    assert.match(openmpWaits({ OMP_WAIT_POLICY: 'active', GOMP_SPINCOUNT: '1000' }, 2, 2), /spin 1,000 then sleep \(4 libuv workers, throttled/);
    assert.match(openmpWaits({ OMP_WAIT_POLICY: 'active', GOMP_SPINCOUNT: '300' }, 2, 2), /spin 300 then sleep/);
    assert.match(openmpWaits({ OMP_WAIT_POLICY: 'active' }, 2, 2), /spin 1,000 then sleep/);
    assert.match(openmpWaits({ OMP_WAIT_POLICY: 'passive' }, 2, 2), /spin 0 then sleep/);
  });
  it('many cores: 4 teams of 2 threads fit, so no throttling', () => {
    assert.match(openmpWaits({}, 2, 8), /spin 300,000 then sleep \(4 libuv workers, a team each, within the cores/);
  });
});
