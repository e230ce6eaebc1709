/**
 * The task battery through the real engine: the shipped trained model and a generated random-weight model on a
 * small git repository; partial results resume after a cancel; `hearth bench repo` exits 1 on a regression
 * against a saved baseline and records a drift incident.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { CandidateSpec } from '../../src/common/battery/batteryStats';
import { sampleRepoTasks } from '../../src/node/battery/repoSources';
import { runCandidate } from '../../src/node/battery/runBattery';
import { makeModel, tinyDense } from '../fixtures/gguf/makeModel';

const root = resolve(__dirname, '../../..');
const enginePath = join(root, 'dist/engine.js');
const cli = join(root, 'dist/cli.js');
const shipped = join(root, 'models/hearth-code-tiny.gguf');
const SOURCES = ['src/common/battery/textScores.ts', 'src/common/random.ts', 'src/common/policy/glob.ts', 'src/node/processAlive.ts'];
/**
 * Frozen copies of those files (test/fixtures/batteryRepo, `/` as `_`, `.txt` added): the sampled tasks, and so
 * whether 24 of them tell the two models apart, must not change whenever the project's own files do.
 */
const fixture = (f: string) => join(root, 'test', 'fixtures', 'batteryRepo', `${f.replaceAll('/', '_')}.txt`);

describe('task battery through the engine (shipped and random-weight models)', function () {
  this.timeout(300_000);
  let dir: string;
  let repo: string;
  let randomModel: string;
  const spec = (id: string, modelPath: string): CandidateSpec => ({ id, label: id, modelPath });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-battery-engine-'));
    repo = join(dir, 'repo');
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { stdio: 'pipe' });
    mkdirSync(repo);
    git('init', '-q');
    for (const f of SOURCES.slice(0, 3)) {
      mkdirSync(dirname(join(repo, f)), { recursive: true });
      copyFileSync(fixture(f), join(repo, f));
    }
    git('add', '-A');
    git('commit', '-qm', 'one');
    mkdirSync(dirname(join(repo, SOURCES[3]!)), { recursive: true });
    copyFileSync(fixture(SOURCES[3]!), join(repo, SOURCES[3]!));
    git('add', '-A');
    git('commit', '-qm', 'two');
    randomModel = join(dir, 'random.gguf');
    await makeModel(randomModel, tinyDense);
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('keeps partial results when cancelled and resumes from them to the same answers', async () => {
    const { tasks } = await sampleRepoTasks({ root: repo, count: 6, seed: 5 });
    const runDir = join(dir, 'resume');
    const controller = new AbortController();
    const first = await runCandidate(spec('trained', shipped), tasks, {
      enginePath, runDir, signal: controller.signal, threads: 1,
      onProgress: (_s, done) => { if (done >= 3) controller.abort(); },
    });
    assert.equal(first.finished, false);
    assert.ok(first.results.length >= 3 && first.results.length < 6, `${first.results.length} done before the cancel`);
    const second = await runCandidate(spec('trained', shipped), tasks, { enginePath, runDir, threads: 1 });
    assert.equal(second.finished, true);
    assert.equal(second.resumed, first.results.length);
    const fresh = await runCandidate(spec('trained', shipped), tasks, { enginePath, runDir: join(dir, 'fresh'), threads: 1 });
    assert.deepEqual(second.results.map((r) => r.proposal), fresh.results.map((r) => r.proposal));
  });

  it('hearth bench repo: scores both models, saves a baseline, exits 1 and records drift when the random model runs against it', () => {
    const ledgerFile = join(dir, 'cli-ledger.jsonl');
    const runDir = join(dir, 'cli-runs');
    const base = ['bench', 'repo', '--repo', repo, '--tasks', '24', '--seed', '3', '--ledger', ledgerFile, '--run-dir', runDir];
    const first = spawnSync(process.execPath, [cli, ...base, '--models', shipped, '--save-baseline', join(dir, 'baseline.json'), '--out', join(dir, 'r1.html')], { encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    const second = spawnSync(process.execPath, [cli, ...base, '--models', `${shipped},${randomModel}`, '--baseline', join(dir, 'baseline.json'), '--out', join(dir, 'r2.html'), '--json'], { encoding: 'utf8' });
    assert.equal(second.status, 1, second.stderr);
    const summary = JSON.parse(second.stdout) as {
      tasks: number;
      regression: boolean;
      candidates: Array<{ id: string; card: { tasks: number; errors: number; quality: { value: number }; latencyP95Ms: number; tokensPerSecond: number } }>;
      drift: { verdicts: Array<{ candidate: string; regression: boolean }> };
    };
    assert.equal(summary.tasks, 24);
    const [trained, random] = summary.candidates;
    for (const c of summary.candidates) {
      assert.equal(c.card.tasks, 24);
      assert.equal(c.card.errors, 0);
      assert.ok(c.card.latencyP95Ms > 0 && c.card.tokensPerSecond > 0);
    }
    assert.ok(trained!.card.quality.value > random!.card.quality.value, `trained ${trained!.card.quality.value} vs random ${random!.card.quality.value}`);
    assert.equal(summary.regression, true);
    assert.deepEqual(summary.drift.verdicts.map((v) => [v.candidate, v.regression]), [['hearth-code-tiny.gguf', false], ['random.gguf', true]]);
    // Both models are small: the engine's beam search gave every answer a confidence.
    for (const f of readdirSync(runDir).filter((n) => n.endsWith('.json'))) {
      const run = JSON.parse(readFileSync(join(runDir, f), 'utf8')) as { finished: boolean; results: Array<{ confidence: number | null }> };
      assert.ok(run.finished && run.results.every((r) => r.confidence !== null && r.confidence <= 0), f);
    }
    const records = readFileSync(ledgerFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; lane: string; incident?: string; model: string });
    assert.ok(records.every((r) => r.lane === 'benchmark'));
    assert.equal(records.filter((r) => r.kind === 'task').length, 3 * (24 + 1), 'a record per task and per run');
    assert.deepEqual(records.filter((r) => r.kind === 'incident').map((r) => [r.incident, r.model]), [['drift', 'random.gguf']]);
    const bad = spawnSync(process.execPath, [cli, 'bench', 'repo', '--models', shipped, '--tasks', 'many'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--tasks many: must be an integer/);
  });
});
