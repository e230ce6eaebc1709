/**
 * `hearth models`: list, download and delete models from the manifest; show this machine's hardware profile
 * and which model and settings it should use.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkFits, formatGB, recommend } from '../../common/hardware/recommend';
import { findModel, parseManifestText, type ModelManifest, type ModelPurpose } from '../../common/models/modelManifest';
import { detectHardwareProfile, nodeProbeEnvironment } from '../hardware/hardwareProfile';
import { downloadModel, DownloadError, type DownloadProgress } from '../models/modelDownloader';
import { defaultModelsDir, ModelStore } from '../models/modelStore';
import { stderrLogger } from '../stderrLogger';
import { intFlag, parseCommandArgs, pathFlag, UsageError, type CliCommand } from './args';

const USAGE = 'hearth models list|download ID|delete ID|profile|recommend [--dir DIR] [--manifest FILE] [--purpose completion|chat|both] [--json] [--no-gpu] [--stall-timeout SECONDS]';
const SUBCOMMANDS = ['list', 'download', 'delete', 'profile', 'recommend'];

/** The manifest shipped beside the CLI bundle (dist/cli.js → models-manifest/models.json). */
function defaultManifestPath(): string {
  return join(__dirname, '..', 'models-manifest', 'models.json');
}

async function loadManifest(path: string): Promise<ModelManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--manifest ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, USAGE);
  }
  return parseManifestText(text, path);
}

/** Bytes in the unit that suits their size: a 1.6 MB model is not "0.0 GB". */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function out(line = ''): void {
  process.stdout.write(line + '\n');
}

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_c, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

function progressLine(p: DownloadProgress): string {
  const pct = p.totalBytes ? `${((100 * p.receivedBytes) / p.totalBytes).toFixed(1).padStart(5)}%` : '     ?';
  const of = p.totalBytes ? ` of ${formatBytes(p.totalBytes)}` : '';
  const rate = `${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s`;
  const eta = p.totalBytes && p.bytesPerSecond > 0 ? `, ${Math.ceil((p.totalBytes - p.receivedBytes) / p.bytesPerSecond)} s left` : '';
  return `${pct}  ${formatBytes(p.receivedBytes)}${of}  ${rate}${eta}`;
}

export const modelsCommand: CliCommand = {
  name: 'models',
  summary: 'list, download and delete local models; show the hardware profile and the recommended model and settings',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      dir: { type: 'string' }, manifest: { type: 'string' }, purpose: { type: 'string' }, json: { type: 'boolean' }, 'no-gpu': { type: 'boolean' }, 'stall-timeout': { type: 'string' },
    }, USAGE, { min: 1, max: 2 });
    const [sub, id] = positionals;
    if (!SUBCOMMANDS.includes(sub!)) throw new UsageError(`unknown subcommand "${sub}" (expected ${SUBCOMMANDS.join(', ')})`, USAGE);
    if (id !== undefined && sub !== 'download' && sub !== 'delete') throw new UsageError(`unexpected argument "${id}"`, USAGE);
    const dir = pathFlag(values.dir) ?? defaultModelsDir();
    const manifestPath = pathFlag(values.manifest) ?? defaultManifestPath();
    const json = values.json === true;
    const noGpu = values['no-gpu'] === true;
    const stallSeconds = intFlag(values['stall-timeout'], 'stall-timeout', 30, 1, 3600, USAGE);
    const purpose = (values.purpose ?? 'completion') as ModelPurpose;
    if (!['completion', 'chat', 'both'].includes(purpose)) throw new UsageError(`--purpose ${purpose}: expected completion, chat or both`, USAGE);

    switch (sub) {
      case 'list': {
        const manifest = await loadManifest(manifestPath);
        const store = new ModelStore(dir, manifest);
        const stored = await store.list({ hashCheck: true });
        if (json) {
          out(JSON.stringify(stored.map(({ entry: _entry, ...s }) => s), null, 2));
          return 0;
        }
        out(`Models in ${dir}:`);
        if (stored.length === 0) out('  (none)');
        else {
          table([
            ['  ID', 'SIZE', 'STATUS', 'PATH'],
            ...stored.map((s) => [
              `  ${s.id ?? '(not in manifest)'}`,
              formatBytes(s.sizeBytes),
              s.partial ? 'interrupted (download again to resume)' : s.verified ? (s.verifiedBy === 'none' ? 'size checked only (no hash to verify against)' : `verified (SHA-256 from the ${s.verifiedBy})`) : s.unverifiedReason ? `NOT verified: ${s.unverifiedReason}` : 'not verified',
              s.path,
            ]),
          ]);
        }
        const have = new Set(stored.filter((s) => !s.partial).map((s) => s.id));
        const available = manifest.models.filter((m) => m.tier !== 'demo' && !have.has(m.id));
        if (available.length) {
          out('\nAvailable to download (hearth models download ID):');
          table([['  ID', 'TIER', 'SIZE', 'PURPOSE'], ...available.map((m) => [`  ${m.id}`, m.tier, m.sizeBytes ? formatBytes(m.sizeBytes) : '?', m.purpose])]);
        }
        return 0;
      }

      case 'download': {
        if (!id) throw new UsageError('missing model ID', 'hearth models download ID [--dir DIR] [--manifest FILE] [--stall-timeout SECONDS]');
        const manifest = await loadManifest(manifestPath);
        const entry = findModel(manifest, id);
        if (!entry) throw new Error(`no model "${id}" in ${manifestPath}; \`hearth models list\` shows the ids`);
        if (entry.sizeBytes) {
          const profile = await detectHardwareProfile(nodeProbeEnvironment, { gpu: false });
          const fit = checkFits(profile, entry.sizeBytes, Math.min(4096, entry.contextLength), { name: entry.name });
          if (!fit.fits) process.stderr.write(`warning: ${fit.message}\n`);
        }
        const ac = new AbortController();
        const onSigint = () => ac.abort();
        process.once('SIGINT', onSigint);
        const tty = process.stderr.isTTY;
        let lastLine = 0;
        try {
          process.stderr.write(`Downloading ${entry.name} to ${dir}\n`);
          const r = await downloadModel(entry, dir, {
            signal: ac.signal,
            stallTimeoutMs: stallSeconds * 1000,
            logger: stderrLogger('models', 'info'),
            onProgress: (p) => {
              const now = Date.now();
              if (tty) process.stderr.write(`\r${progressLine(p)}\x1b[K`);
              else if (now - lastLine > 5000 || p.receivedBytes === p.totalBytes) {
                lastLine = now;
                process.stderr.write(progressLine(p) + '\n');
              }
            },
          });
          if (tty) process.stderr.write('\n');
          const how = r.verifiedBy === 'none' ? 'size checked; no hash was available to verify it' : `SHA-256 verified against the ${r.verifiedBy}`;
          out(`${r.path} (${formatBytes(r.sizeBytes)}, ${how}${r.resumedFromBytes ? `, resumed at ${formatBytes(r.resumedFromBytes)}` : ''})`);
          return 0;
        } catch (err) {
          if (tty) process.stderr.write('\n');
          if (err instanceof DownloadError) {
            process.stderr.write(`hearth models download: ${err.message}\n`);
            return err.kind === 'aborted' ? 130 : 1;
          }
          throw err;
        } finally {
          process.removeListener('SIGINT', onSigint);
        }
      }

      case 'delete': {
        if (!id) throw new UsageError('missing model ID', 'hearth models delete ID [--dir DIR]');
        const deleted = await new ModelStore(dir).delete(id);
        if (!deleted) {
          process.stderr.write(`no model "${id}" in ${dir}\n`);
          return 1;
        }
        out(`deleted ${id} from ${dir}`);
        return 0;
      }

      case 'profile': {
        const profile = await detectHardwareProfile(nodeProbeEnvironment, { gpu: !noGpu });
        out(JSON.stringify(profile, null, 2));
        return 0;
      }

      case 'recommend': {
        const [manifest, profile] = await Promise.all([
          loadManifest(manifestPath),
          detectHardwareProfile(nodeProbeEnvironment, { gpu: !noGpu }),
        ]);
        const r = recommend(profile, manifest, { purpose });
        if (json) {
          out(JSON.stringify({
            profileId: profile.profileId,
            model: r.model?.id ?? null,
            settings: r.settings,
            reasons: r.reasons,
            candidates: r.candidates.map((c) => ({ id: c.entry.id, fits: c.fit.fits, neededBytes: c.fit.need.totalBytes, estDecodeTokensPerSecond: Math.round(c.estDecodeTokensPerSecond), rejected: c.rejected, settings: c.settings })),
          }, null, 2));
          return r.model ? 0 : 1;
        }
        const gpu = profile.gpu ? `, GPU ${profile.gpu.backend}: ${profile.gpu.names.join(', ')} (${formatGB(profile.gpu.vramFreeBytes)} free)` : ', no GPU';
        out(`This machine: ${profile.cpu.model}, ${profile.cpu.physicalCores} cores / ${profile.cpu.logicalCores} threads, ${formatGB(profile.memory.availableBytes)} of ${formatGB(profile.memory.totalBytes)} RAM available${gpu}.`);
        for (const n of profile.notes) out(`  note: ${n}`);
        out(r.model ? `\nRecommended for ${purpose}: ${r.model.id}` : `\nNothing in the manifest suits ${purpose} here.`);
        for (const line of r.reasons) out(`  ${line}`);
        out('\nCandidates:');
        table([
          ['  ID', 'NEEDS', 'EST. TOK/S', 'VERDICT'],
          ...r.candidates.map((c) => [`  ${c.entry.id}`, formatGB(c.fit.need.totalBytes), c.estDecodeTokensPerSecond.toFixed(0), c === r.candidates[0] && r.model ? 'chosen' : c.rejected ?? 'fits (ranked lower)']),
        ]);
        return r.model ? 0 : 1;
      }

      default:
        throw new UsageError(`unknown subcommand "${sub}"`, USAGE);
    }
  },
};
