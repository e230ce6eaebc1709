/**
 * @secretlint/core with @secretlint/secretlint-rule-preset-recommend (pinned in package.json, profiler off) run over
 * the same corpus as our engine, for the side-by-side figures in bench/redaction.ts.
 */
import type { CorpusFile } from '../test/fixtures/redactionCorpus';

export interface SecretlintRun {
  findings: Map<CorpusFile, Array<{ start: number; end: number; category: string }>>;
  mbPerS: number;
  mbPerSWall: number;
  version: string;
}

// secretlint ships ES modules only: load them with import() (esbuild bundles them into the benchmark).
async function loadSecretlint() {
  const [{ lintSource }, { secretLintProfiler }, { creator }] = await Promise.all([
    import('@secretlint/core'),
    import('@secretlint/profiler'),
    import('@secretlint/secretlint-rule-preset-recommend'),
  ]);
  return { lintSource, secretLintProfiler, config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: creator }] } };
}

async function lintOne(sl: Awaited<ReturnType<typeof loadSecretlint>>, file: CorpusFile) {
  const { lintSource, config } = sl;
  const ext = file.path.includes('.') ? file.path.slice(file.path.lastIndexOf('.')) : '';
  return lintSource({
    source: { content: file.text, filePath: `/corpus/${file.path}`, ext, contentType: 'text' },
    options: { config, maskSecrets: true },
  });
}

/** Lints every file once for the findings, then again for at least `minSeconds` for the throughput. */
export async function runSecretlint(files: CorpusFile[], minSeconds: number): Promise<SecretlintRun> {
  // The profiler marks every rule on every file through perf_hooks; the CLI turns it off unless --profile.
  const sl = await loadSecretlint();
  sl.secretLintProfiler.setEnabled(false);
  const findings = new Map<CorpusFile, Array<{ start: number; end: number; category: string }>>();
  for (const f of files) {
    const result = await lintOne(sl, f);
    findings.set(f, result.messages.map((m) => ({ start: m.range[0], end: m.range[1], category: `${m.ruleId}/${m.messageId}` })));
  }
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
  let rounds = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let elapsed = 0;
  do {
    for (const f of files) await lintOne(sl, f);
    rounds++;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed < minSeconds);
  const cpu = process.cpuUsage(c0);
  return { findings, mbPerS: (bytes * rounds) / 1e6 / ((cpu.user + cpu.system) / 1e6), mbPerSWall: (bytes * rounds) / 1e6 / elapsed, version: '13.0.7' };
}
