/**
 * Redaction benchmark: recall per category on the generated, labelled corpus, false-positive rate on hard
 * negatives, and throughput on one core — ours beside @secretlint/core with its recommended preset.
 *
 *   node out/bench/redaction.js [--files N] [--no-secretlint] [--min-seconds S]
 *
 * Ends with one line: RESULT {"recall":…,"fp_rate":…,"mb_per_s":…} (our engine's figures).
 */
import { createRedactor } from '../src/common/redaction';
import { coverageFile, generateCorpus, type CorpusFile } from '../test/fixtures/redactionCorpus';
import { runSecretlint } from './redactionSecretlint';

export interface Span { start: number; end: number; category: string }

export interface Evaluation {
  perCategory: Map<string, { planted: number; found: number; touched: number }>;
  negatives: number;
  negativesHit: number;
  negativesHitByKind: Map<string, number>;
  /** Findings that overlap no planted secret (text outside the labels, negatives included). */
  stray: Map<string, number>;
}

/** Scores findings against the labels: a planted value counts as found only when findings cover all of it. */
export function evaluate(files: CorpusFile[], findingsOf: (f: CorpusFile) => Span[]): Evaluation {
  const ev: Evaluation = { perCategory: new Map(), negatives: 0, negativesHit: 0, negativesHitByKind: new Map(), stray: new Map() };
  for (const file of files) {
    const spans = findingsOf(file).slice().sort((a, b) => a.start - b.start);
    const covered = (s: number, e: number) => {
      let pos = s;
      for (const f of spans) {
        if (f.end <= pos) continue;
        if (f.start > pos) break;
        pos = Math.max(pos, f.end);
        if (pos >= e) return true;
      }
      return pos >= e;
    };
    const overlaps = (s: number, e: number) => spans.some((f) => f.start < e && f.end > s);
    for (const sec of file.secrets) {
      const c = ev.perCategory.get(sec.category) ?? { planted: 0, found: 0, touched: 0 };
      c.planted++;
      if (covered(sec.start, sec.end)) c.found++;
      if (overlaps(sec.start, sec.end)) c.touched++;
      ev.perCategory.set(sec.category, c);
    }
    for (const n of file.negatives) {
      ev.negatives++;
      if (overlaps(n.start, n.end)) {
        ev.negativesHit++;
        ev.negativesHitByKind.set(n.kind, (ev.negativesHitByKind.get(n.kind) ?? 0) + 1);
      }
    }
    for (const f of spans) {
      if (!file.secrets.some((s) => s.start < f.end && s.end > f.start)) ev.stray.set(f.category, (ev.stray.get(f.category) ?? 0) + 1);
    }
  }
  return ev;
}

export function recallOf(ev: Evaluation, anyOverlap = false): number {
  let p = 0, f = 0;
  for (const c of ev.perCategory.values()) { p += c.planted; f += anyOverlap ? c.touched : c.found; }
  return p === 0 ? 0 : f / p;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const fmt = (x: number, d = 3) => x.toFixed(d);

async function main(): Promise<void> {
  const fileCount = Number(arg('files') ?? process.env.REDACTION_BENCH_FILES ?? 520);
  const minSeconds = Number(arg('min-seconds') ?? 1.5);
  const files = [...generateCorpus({ files: fileCount }), coverageFile()];
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
  const categories = new Set(files.flatMap((f) => f.secrets.map((s) => s.category)));
  console.log(`corpus: ${files.length} files, ${(bytes / 1e6).toFixed(2)} MB, ${files.reduce((n, f) => n + f.secrets.length, 0)} planted values in ${categories.size} categories, ${files.reduce((n, f) => n + f.negatives.length, 0)} hard negatives`);

  const redactor = createRedactor();
  const ours = evaluate(files, (f) => redactor.scan(f.text, { fileName: f.path }));

  // Throughput: full redact() (placeholders included) over the whole corpus, repeated for at least minSeconds.
  // Reported against this process's CPU time (one thread of JavaScript, so "one core"), which stays meaningful on
  // a shared, loaded machine; wall-clock figures are printed beside it. CPU time includes V8's GC helper threads,
  // so the figure errs low.
  for (const f of files) redactor.redact(f.text, { fileName: f.path }); // warm-up
  let rounds = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let elapsed = 0;
  do {
    for (const f of files) redactor.redact(f.text, { fileName: f.path });
    rounds++;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed < minSeconds);
  const cpu = process.cpuUsage(c0);
  const mbPerS = (bytes * rounds) / 1e6 / ((cpu.user + cpu.system) / 1e6);
  const mbPerSWall = (bytes * rounds) / 1e6 / elapsed;

  const withSecretlint = !process.argv.includes('--no-secretlint');
  const sl = withSecretlint ? await runSecretlint(files, minSeconds) : undefined;
  const theirs = sl ? evaluate(files, (f) => sl.findings.get(f) ?? []) : undefined;

  console.log('\nrecall by category           planted   hearth   secretlint');
  for (const cat of [...ours.perCategory.keys()].sort()) {
    const o = ours.perCategory.get(cat)!;
    const t = theirs?.perCategory.get(cat);
    console.log(`  ${cat.padEnd(28)} ${String(o.planted).padStart(6)}   ${fmt(o.found / o.planted)}    ${t ? fmt(t.found / t.planted) : '-'}`);
  }
  const fpRate = ours.negatives === 0 ? 0 : ours.negativesHit / ours.negatives;
  console.log(`\nhard negatives hit (ours): ${ours.negativesHit}/${ours.negatives}${ours.negativesHitByKind.size ? ' — ' + [...ours.negativesHitByKind].map(([k, n]) => `${k}:${n}`).join(', ') : ''}`);
  if (theirs) console.log(`hard negatives hit (secretlint): ${theirs.negativesHit}/${theirs.negatives}${theirs.negativesHitByKind.size ? ' — ' + [...theirs.negativesHitByKind].map(([k, n]) => `${k}:${n}`).join(', ') : ''}`);
  console.log(`findings outside any label (ours): ${[...ours.stray.values()].reduce((a, b) => a + b, 0)}${ours.stray.size ? ' — ' + [...ours.stray].map(([k, n]) => `${k}:${n}`).join(', ') : ''}`);
  console.log('\n                 recall   fp_rate   MB/s (one core, CPU time)   MB/s (wall)');
  console.log(`  hearth         ${fmt(recallOf(ours))}    ${fmt(fpRate, 4)}    ${mbPerS.toFixed(1).padStart(6)}                      ${mbPerSWall.toFixed(1)}`);
  if (theirs && sl) console.log(`  secretlint     ${fmt(recallOf(theirs))}    ${fmt(theirs.negatives ? theirs.negativesHit / theirs.negatives : 0, 4)}    ${sl.mbPerS.toFixed(1).padStart(6)}                      ${sl.mbPerSWall.toFixed(1)}   (@secretlint/core + preset-recommend ${sl.version}, profiler off)`);
  if (theirs) console.log(`  secretlint recall counting any overlap as found: ${fmt(recallOf(theirs, true))}`);
  console.log(`  goals          ≥0.990   ≤0.0100   ≥20`);
  console.log(`RESULT ${JSON.stringify({ recall: Number(recallOf(ours).toFixed(4)), fp_rate: Number(fpRate.toFixed(4)), mb_per_s: Number(mbPerS.toFixed(1)) })}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
