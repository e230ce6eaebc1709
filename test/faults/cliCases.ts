/**
 * The CLI cases of the fault suite, as a table: each names its setup (inputs in a fresh folder), the command
 * line, the exit code it must end with and the message it must print. The harness adds the checks every case
 * must pass (no stack trace, inputs unchanged, no partial output, nothing sent off the machine).
 */
import { createHash } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { sampleEntries } from '../../src/common/ledger/sampleEntries';
import { FileLedgerWriter } from '../../src/node/ledger/fileLedgerWriter';
import { notes } from './faultHarness';

export interface Fixture {
  dir: string;
  /** HEARTH_STATE_DIR of the child (outside `dir`: anchors are not inputs). */
  stateDir: string;
  /** Set by the suite: base URLs of the local servers. */
  http: string;
  https: string | undefined;
  repo: string;
  /** The shared engine's runtime folder of this suite (its engine.json names the engine's pid). */
  runtimeDir: string;
}

export interface CliCase {
  name: string;
  setup?: (f: Fixture) => void | Promise<void>;
  args: string[] | ((f: Fixture) => string[]);
  /** The exit code (0 ok, 1 problem, 2 usage, 130 interrupted). */
  code: number;
  /** Must match stdout + stderr: names the thing (and, for failures, what to do). */
  msg?: RegExp;
  /** Paths (relative to the case folder) the command may create or change; everything else is an input. */
  outputs?: string[];
  /** The output may be written although the command exits non-zero (a complete export of a broken ledger). */
  outputOnFailure?: boolean;
  /** The inputs hold lost or damaged data: exit 0 would be a loss reported as ok. */
  loss?: boolean;
  ulimitBlocks?: number;
  env?: Record<string, string>;
  sigintOnStdoutBytes?: number;
  /** Called as the child's stdout grows. */
  onStdout?: (f: Fixture, total: number) => void;
  timeoutMs?: number;
  /** Extra checks; return a failure message, or undefined. */
  check?: (f: Fixture, out: { code: number; stdout: string; stderr: string; sigintToExitMs?: number }) => string | undefined | Promise<string | undefined>;
  /** Needs the HTTPS server (skipped, and counted as skipped, when openssl is missing). */
  needsHttps?: boolean;
  engine?: boolean;
}

/** Writes a 40-record ledger with the real writer, anchored in the fixture's state folder. */
export async function makeLedger(f: Fixture, rel = 'L.jsonl', count = 40): Promise<string> {
  const path = join(f.dir, rel);
  const w = new FileLedgerWriter({ path, anchorDir: join(f.stateDir, 'ledger-anchors') });
  for (const e of sampleEntries(count, { seed: 7, start: new Date('2026-01-05T10:00:00Z') })) w.append(e);
  await w.close();
  return path;
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n');
}

/** Ways a ledger loses data; each must make verify, stats and every export exit 1. */
export const DAMAGES: { name: string; apply: (f: Fixture, path: string) => void; msg: RegExp; anchorless?: boolean }[] = [
  { name: 'cut mid-file (half the records gone)', apply: (_f, p) => truncateSync(p, Math.floor(readFileSync(p).length / 2) + 7), msg: /missing from the end|records seq \d+–39/ },
  { name: 'cut at a line boundary (tail records gone)', apply: (_f, p) => writeFileSync(p, lines(p).slice(0, 25).join('\n') + '\n'), msg: /15 record\(s\) missing from the end/ },
  { name: 'last record changed', apply: (_f, p) => { const l = lines(p); l[39] = l[39]!.replace('"time":"2026', '"time":"2025'); writeFileSync(p, l.join('\n')); }, msg: /record seq 39 was changed/ },
  { name: 'a middle record changed', apply: (_f, p) => { const l = lines(p); l[10] = l[10]!.replace('"time":"2026', '"time":"2025'); writeFileSync(p, l.join('\n')); }, msg: /broken link|changed/ },
  { name: 'a middle record deleted', apply: (_f, p) => { const l = lines(p); l.splice(15, 1); writeFileSync(p, l.join('\n')); }, msg: /seq 15 is missing/ },
  { name: 'emptied to 0 bytes', apply: (_f, p) => writeFileSync(p, ''), msg: /40 record\(s\) missing from the end/ },
  { name: 'tail cut, no anchor on this machine (torn last line)', apply: (f, p) => { rmSync(join(f.stateDir, 'ledger-anchors'), { recursive: true, force: true }); truncateSync(p, readFileSync(p).length - 40); }, msg: /torn/, anchorless: true },
  { name: 'records reordered', apply: (_f, p) => { const l = lines(p); [l[5], l[6]] = [l[6]!, l[5]!]; writeFileSync(p, l.join('\n')); }, msg: /reordered/ },
  { name: 'a record with an invalid field', apply: (_f, p) => { const l = lines(p); l[20] = l[20]!.replace(/"seq":20,/, '"seq":"twenty",'); writeFileSync(p, l.join('\n')); }, msg: /seq/ },
  { name: 'deleted (anchored ledger gone)', apply: (_f, p) => rmSync(p), msg: /no ledger at .*L\.jsonl.*anchored at seq 39/ },
];

/** Files that are not ledgers: each is an error naming the file. */
export const NOT_LEDGERS: { name: string; setup: (f: Fixture) => void; msg: RegExp; args?: string[] }[] = [
  { name: 'a missing path', setup: () => undefined, msg: /no ledger at .*nope\.jsonl.*--ledger/ },
  { name: 'a CSV file', setup: (f) => writeFileSync(join(f.dir, 'nope.jsonl'), 'a,b,c\n1,2,3\n'), msg: /nope\.jsonl is not a Hearth ledger/ },
  { name: 'a folder', setup: (f) => mkdirSync(join(f.dir, 'nope.jsonl')), msg: /nope\.jsonl is a folder/ },
  { name: 'JSON that is not a record', setup: (f) => writeFileSync(join(f.dir, 'nope.jsonl'), '{"hello":"world"}\n'), msg: /nope\.jsonl|not a ledger record|invalid/ },
];

const LEDGER_COMMANDS: { name: string; args: (ledger: string) => string[]; out?: string }[] = [
  { name: 'verify', args: (l) => ['ledger', 'verify', '--ledger', l] },
  { name: 'verify --json', args: (l) => ['ledger', 'verify', '--json', '--ledger', l] },
  { name: 'stats', args: (l) => ['ledger', 'stats', '--ledger', l] },
  { name: 'export csv', args: (l) => ['ledger', 'export', '--format', 'csv', '--ledger', l, '--out', 'out.csv'], out: 'out.csv' },
  { name: 'export json', args: (l) => ['ledger', 'export', '--format', 'json', '--ledger', l, '--out', 'out.json'], out: 'out.json' },
  { name: 'export html', args: (l) => ['ledger', 'export', '--format', 'html', '--ledger', l, '--out', 'out.html'], out: 'out.html' },
];

function ledgerCases(): CliCase[] {
  const cases: CliCase[] = [];
  for (const cmd of LEDGER_COMMANDS) {
    cases.push({
      name: `ledger ${cmd.name}: an intact, anchored ledger is ok (exit 0)`,
      setup: (f) => makeLedger(f).then(() => undefined),
      args: cmd.args('L.jsonl'),
      code: 0,
      msg: /intact|40 records|"ok": true/,
      outputs: cmd.out ? [cmd.out] : [],
      check: (f, o) => {
        if (!cmd.out) return undefined;
        const text = readFileSync(join(f.dir, cmd.out), 'utf8');
        if (cmd.name === 'export csv' && !/,intact,39:[0-9a-f]{64}\r\n/.test(text)) return 'CSV rows do not carry chainStatus "intact" and the head';
        if (cmd.name === 'export json' && (JSON.parse(text) as { chain: { status: string } }).chain.status !== 'intact') return 'JSON does not carry the chain status';
        if (cmd.name === 'export html' && !/Hash chain verified/.test(text)) return 'HTML report lacks the chain line';
        return o.code === 0 ? undefined : 'exit';
      },
    });
    for (const d of DAMAGES) {
      const deleted = d.name.startsWith('deleted');
      cases.push({
        name: `ledger ${cmd.name}: ${d.name} → exit 1`,
        setup: async (f) => d.apply(f, await makeLedger(f)),
        args: cmd.args('L.jsonl'),
        code: 1,
        msg: cmd.name === 'export html' && !deleted ? /BROKEN|not intact|torn/i : d.msg,
        outputs: cmd.out ? [cmd.out] : [],
        outputOnFailure: !deleted,
        loss: true,
      });
    }
    for (const n of NOT_LEDGERS) {
      cases.push({
        name: `ledger ${cmd.name}: ${n.name} given as the ledger → an error naming it`,
        setup: n.setup,
        args: cmd.args('nope.jsonl'),
        code: 1,
        msg: n.msg,
        outputs: cmd.out ? [cmd.out] : [],
        loss: true,
      });
    }
  }
  // --allow-broken: the user accepts the broken chain, the status still travels in the output.
  for (const fmt of ['csv', 'json'] as const) {
    cases.push({
      name: `ledger export ${fmt} --allow-broken on a cut ledger: exit 0, status "broken" in the file`,
      setup: async (f) => DAMAGES[1]!.apply(f, await makeLedger(f)),
      args: ['ledger', 'export', '--format', fmt, '--ledger', 'L.jsonl', '--out', `o.${fmt}`, '--allow-broken'],
      code: 0,
      msg: /chain broken:truncated/,
      outputs: [`o.${fmt}`],
      check: (f) => (readFileSync(join(f.dir, `o.${fmt}`), 'utf8').includes('broken:truncated') ? undefined : 'status missing from the export'),
    });
  }
  cases.push({
    name: 'ledger stats --allow-broken on a cut ledger: exit 0 with a warning',
    setup: async (f) => DAMAGES[1]!.apply(f, await makeLedger(f)),
    args: ['ledger', 'stats', '--ledger', 'L.jsonl', '--allow-broken'],
    code: 0,
    msg: /warning: the ledger .* is NOT intact/,
  });
  // Outputs that would destroy an input.
  const refused: [string, (f: Fixture) => void | Promise<void>, string[], RegExp][] = [
    ['--out is the ledger itself', (f) => makeLedger(f).then(() => undefined), ['--out', 'L.jsonl'], /L\.jsonl is the ledger/],
    ['--out is the ledger through ./', (f) => makeLedger(f).then(() => undefined), ['--out', './L.jsonl'], /is the ledger/],
    ['--out is a symlink to the ledger', async (f) => { await makeLedger(f); symlinkSync('L.jsonl', join(f.dir, 'link.csv')); }, ['--out', 'link.csv'], /is the ledger/],
    ['--out is a hard link to the ledger', async (f) => { await makeLedger(f); linkSync(join(f.dir, 'L.jsonl'), join(f.dir, 'hard.csv')); }, ['--out', 'hard.csv'], /same file as the ledger/],
    ['--out is a rotated segment', async (f) => { await makeLedger(f); writeFileSync(join(f.dir, 'L.1.jsonl'), ''); }, ['--out', 'L.1.jsonl'], /is the ledger/],
    ['--out in a folder that does not exist', (f) => makeLedger(f).then(() => undefined), ['--out', 'no/such/dir/x.csv'], /does not exist; create it first/],
    ['--out is a folder', async (f) => { await makeLedger(f); mkdirSync(join(f.dir, 'outdir')); }, ['--out', 'outdir'], /is a folder; give a file name/],
  ];
  for (const [name, setup, extra, msg] of refused) {
    cases.push({ name: `ledger export csv: ${name} → refused (exit 2), nothing written`, setup, args: ['ledger', 'export', '--format', 'csv', '--ledger', 'L.jsonl', ...extra], code: 2, msg });
  }
  // A full disk (a file size limit) in the middle of an export: no partial file, the old output stays.
  for (const fmt of ['csv', 'json', 'html'] as const) {
    cases.push({
      name: `ledger export ${fmt} under a 4 KiB file size limit: exit 1, the previous export untouched`,
      setup: async (f) => { await makeLedger(f); writeFileSync(join(f.dir, `old.${fmt}`), 'previous export\n'); },
      args: ['ledger', 'export', '--format', fmt, '--ledger', 'L.jsonl', '--out', `old.${fmt}`],
      ulimitBlocks: 8,
      code: 1,
      msg: new RegExp(`old\\.${fmt}.*(EFBIG|larger than this system)`),
    });
  }
  cases.push({
    name: 'ledger verify --accept-loss: a loss recorded by a writer is reported until acknowledged',
    setup: async (f) => {
      const p = await makeLedger(f);
      DAMAGES[1]!.apply(f, p);
      // A writer appends after the loss: the chain is valid again, but the anchor keeps the loss.
      const w = new FileLedgerWriter({ path: p, anchorDir: join(f.stateDir, 'ledger-anchors') });
      for (const e of sampleEntries(3, { seed: 9 })) w.append(e);
      await w.close();
    },
    args: ['ledger', 'verify', '--ledger', 'L.jsonl'],
    code: 1,
    msg: /records seq 25–39 .* are gone/,
    loss: true,
  });
  return cases;
}

/** Command lines that are wrong: each exits 2 with the command's usage, before doing anything. */
const USAGE_ERRORS: [string[], RegExp][] = [
  [['frobnicate'], /unknown command "frobnicate"/],
  [['ledgr'], /unknown command "ledgr"/],
  [[], /usage: hearth <command>/],
  [['ledger'], /missing subcommand/],
  [['ledger', 'verfy'], /unknown subcommand "verfy"/],
  [['ledger', 'verify', '--ledgr', 'x'], /unknown option '--ledgr'/],
  [['ledger', 'verify', '--json=false'], /'--json' does not take an argument/],
  [['ledger', 'verify', '--json=true'], /'--json' does not take an argument/],
  [['ledger', 'verify', '--ledger'], /--ledger.*argument|needs a value/],
  [['ledger', 'verify', 'extra'], /unexpected argument: "extra"/],
  [['ledger', 'stats', '--frob'], /unknown option '--frob'/],
  [['ledger', 'stats', '--json=false'], /'--json' does not take an argument/],
  [['ledger', 'stats', '--costs', 'missing.json'], /--costs missing\.json: no such file/],
  [['ledger', 'export'], /--format is required/],
  [['ledger', 'export', '--format', 'xml'], /--format xml: expected one of csv, json, html/],
  [['ledger', 'export', '--format', 'csv', '--outt', 'x'], /unknown option '--outt'/],
  [['ledger', 'export', '--format', 'csv', '--allow-broken=yes'], /'--allow-broken' does not take an argument/],
  [['ledger', 'export', '--format='], /--format needs a value|--format is required/],
  [['models'], /missing argument/],
  [['models', 'lst'], /unknown subcommand "lst"/],
  [['models', 'list', '--jsn'], /unknown option '--jsn'/],
  [['models', 'list', '--json=false'], /'--json' does not take an argument/],
  [['models', 'list', 'extra'], /unexpected argument "extra"/],
  [['models', 'download'], /missing model ID/],
  [['models', 'download', 'x', '--stall-timeout', 'soon'], /--stall-timeout must be a whole number/],
  [['models', 'download', 'x', '--stall-timeout', '0'], /--stall-timeout must be a whole number from 1/],
  [['models', 'delete'], /missing model ID/],
  [['models', 'recommend', '--purpose', 'poetry'], /--purpose poetry: expected completion, chat or both/],
  [['models', 'profile', '--no-gpu=false'], /'--no-gpu' does not take an argument/],
  [['models', 'list', '--manifest', 'missing.json'], /--manifest .*missing\.json: no such file/],
  [['redact'], /--in is required/],
  [['redact', '--in', 'in'], /--out is required/],
  [['redact', '--in', 'nowhere', '--out', 'o'], /--in nowhere: not a folder/],
  [['redact', '--in', 'in', '--out', 'o', '--disabel', 'email'], /unknown option '--disabel'/],
  [['redact', '--in', 'in', '--out', 'o', '--replace=false'], /'--replace' does not take an argument/],
  [['redact', '--in', 'in', '--out', 'o', 'stray'], /unexpected argument: "stray"/],
  [['complete'], /missing argument/],
  [['complete', '--model', 'm.gguf', '--max-tokens', 'abc', 'p.txt'], /--max-tokens must be a whole number from 1 to 4096 \(got "abc"\)/],
  [['complete', '--model', 'm.gguf', '--max-tokens', '-5', 'p.txt'], /--max-tokens|unknown option|argument/],
  [['complete', '--model', 'm.gguf', '--max-tokens', '0', 'p.txt'], /--max-tokens must be a whole number from 1/],
  [['complete', '--model', 'nothere.gguf', 'p.txt'], /--model nothere\.gguf: no such file/],
  [['complete', '--model', 'm.gguf', 'missing-prefix.txt'], /PREFIX_FILE .*missing-prefix\.txt: no such file/],
  [['complete', '--model', 'm.gguf', 'p.txt', 's.txt', 'third'], /unexpected argument: "third"/],
  [['complete', '--modle', 'm.gguf', 'p.txt'], /unknown option '--modle'/],
  [['status'], /--model FILE .* is required/],
  [['status', '--model', 'nothere.gguf'], /--model nothere\.gguf: no such file/],
  [['status', '--model', 'm.gguf', '--json'], /unknown option '--json'/],
  [['status', 'extra', '--model', 'm.gguf'], /unexpected argument/],
];

function usageCases(): CliCase[] {
  return USAGE_ERRORS.map(([args, msg]) => ({
    name: `usage: hearth ${args.join(' ') || '(nothing)'} → exit 2`,
    setup: (f: Fixture) => {
      mkdirSync(join(f.dir, 'in'));
      writeFileSync(join(f.dir, 'in', 'a.txt'), 'hello\n');
      writeFileSync(join(f.dir, 'm.gguf'), 'not really a model');
      writeFileSync(join(f.dir, 'p.txt'), 'def f(');
      writeFileSync(join(f.dir, 's.txt'), ')\n');
    },
    args,
    code: 2,
    env: { HEARTH_MODEL: '' },
    msg: args.length === 0 ? msg : new RegExp(`(?:${msg.source})[^]*usage: hearth|usage: hearth[^]*(?:${msg.source})`),
  }));
}

const SECRET_FILE = 'db_password = "Tr0ub4dor&3xyzzy"\naws_access_key_id = AKIAQ3EGT7DLPXRWJ5VN\nmail = jane.doe@acme-corp.io\n';

function redactTree(f: Fixture): void {
  mkdirSync(join(f.dir, 'in', 'sub'), { recursive: true });
  writeFileSync(join(f.dir, 'in', 'config.py'), SECRET_FILE);
  writeFileSync(join(f.dir, 'in', 'sub', 'notes.md'), 'call 10.1.2.3\n');
}

function redactCases(): CliCase[] {
  const noSecretInOutput = (dir: string) => (f: Fixture) => {
    const out = readFileSync(join(f.dir, dir, 'config.py'), 'utf8');
    return out.includes('Tr0ub4dor') || out.includes('AKIAQ3EGT7DLPXRWJ5VN') ? 'a secret reached the output' : undefined;
  };
  const cases: CliCase[] = [
    { name: 'redact: a plain run writes the copy, no secret in it', setup: redactTree, args: ['redact', '--in', 'in', '--out', 'out'], code: 0, msg: /2 files written/, outputs: ['out'], check: noSecretInOutput('out') },
    { name: 'redact: --in is a symlink and --out lies inside the real --in → refused', setup: (f) => { redactTree(f); symlinkSync('in', join(f.dir, 'inlink')); }, args: ['redact', '--in', 'inlink', '--out', 'in/red'], code: 2, msg: /--out in\/red .* is inside --in/ },
    { name: 'redact: --out is a symlink into --in → refused', setup: (f) => { redactTree(f); symlinkSync('in/sub', join(f.dir, 'outlink')); }, args: ['redact', '--in', 'in', '--out', 'outlink'], code: 2, msg: /--out outlink .* is inside --in/ },
    { name: 'redact: --out equals --in → refused', setup: redactTree, args: ['redact', '--in', 'in', '--out', 'in'], code: 2, msg: /is --in|inside --in/ },
    { name: 'redact: --out contains --in → refused (replacing it would delete the input)', setup: (f) => { mkdirSync(join(f.dir, 'w')); redactTree({ ...f, dir: join(f.dir, 'w') }); }, args: ['redact', '--in', 'w/in', '--out', 'w', '--replace'], code: 2, msg: /contains --in/ },
    { name: 'redact: a non-empty --out without --replace → refused, stale files kept as they were', setup: (f) => { redactTree(f); mkdirSync(join(f.dir, 'out')); writeFileSync(join(f.dir, 'out', 'stale.py'), 'password = "old-unredacted"\n'); }, args: ['redact', '--in', 'in', '--out', 'out'], code: 2, msg: /out .* is not empty.*--replace/ },
    {
      name: 'redact: --replace clears stale files and never writes through a symlink inside --out',
      setup: (f) => { redactTree(f); mkdirSync(join(f.dir, 'out')); writeFileSync(join(f.dir, 'victim.txt'), 'keep me\n'); symlinkSync('../victim.txt', join(f.dir, 'out', 'config.py')); writeFileSync(join(f.dir, 'out', 'stale.txt'), 'stale\n'); },
      args: ['redact', '--in', 'in', '--out', 'out', '--replace'], code: 0, msg: /2 files written/, outputs: ['out'],
      check: (f) => {
        if (readFileSync(join(f.dir, 'victim.txt'), 'utf8') !== 'keep me\n') return 'the file behind the symlink was overwritten';
        try { readFileSync(join(f.dir, 'out', 'stale.txt')); return 'a stale file stayed in --out'; } catch { return noSecretInOutput('out')(f); }
      },
    },
    { name: 'redact: a symlink inside --in is not followed (a secret outside --in stays out)', setup: (f) => { redactTree(f); writeFileSync(join(f.dir, 'outside.env'), 'X=1\n'); symlinkSync('../outside.env', join(f.dir, 'in', 'link.env')); }, args: ['redact', '--in', 'in', '--out', 'out'], code: 0, msg: /1 symlink\(s\) not followed/, outputs: ['out'] },
    { name: 'redact: an oversized file is named and skipped without being read, the rest is written, exit 1', setup: (f) => { redactTree(f); writeFileSync(join(f.dir, 'in', 'huge.log'), ''); truncateSync(join(f.dir, 'in', 'huge.log'), 3 * 1024 * 1024 * 1024); }, args: ['redact', '--in', 'in', '--out', 'out'], code: 1, msg: /skipped .*huge\.log: too large .*NOT in the copy/s, outputs: ['out'], outputOnFailure: true, check: (f) => noSecretInOutput('out')(f) },
    { name: 'redact: --disable secrets → refused, lists what can be disabled', setup: redactTree, args: ['redact', '--in', 'in', '--out', 'out', '--disable', 'secrets'], code: 2, msg: /"secrets" is a secret category: secrets are always redacted.*email/ },
    { name: 'redact: --disable password → refused', setup: redactTree, args: ['redact', '--in', 'in', '--out', 'out', '--disable', 'password'], code: 2, msg: /"password" is a secret category/ },
    { name: 'redact: --disable aws-secret-access-key → refused', setup: redactTree, args: ['redact', '--in', 'in', '--out', 'out', '--disable', 'aws-secret-access-key'], code: 2, msg: /"aws-secret-access-key" is a secret category/ },
    { name: 'redact: --disable email,pasword (a typo) → refused, lists valid names', setup: redactTree, args: ['redact', '--in', 'in', '--out', 'out', '--disable', 'email,pasword'], code: 2, msg: /unknown redaction category "pasword".*email, phone-number/ },
    { name: 'redact: --disable email keeps secrets redacted', setup: redactTree, args: ['redact', '--in', 'in', '--out', 'out', '--disable', 'email'], code: 0, msg: /files written/, outputs: ['out'], check: noSecretInOutput('out') },
    { name: 'redact: the disk fills (file size limit) mid-run → exit 1, no --out and no staging left', setup: (f) => { redactTree(f); writeFileSync(join(f.dir, 'in', 'big.txt'), 'x'.repeat(64 * 1024)); }, args: ['redact', '--in', 'in', '--out', 'out'], ulimitBlocks: 16, code: 1, msg: /big\.txt|EFBIG|larger than this system/ },
  ];
  return cases;
}

function ggufBytes(size: number): Buffer {
  const b = Buffer.alloc(size, 0x61);
  b.write('GGUF', 0, 'latin1');
  b.writeUInt32LE(3, 4);
  b.writeBigUInt64LE(0n, 8);
  b.writeBigUInt64LE(0n, 16);
  return b;
}

export const MODEL_SIZE = 200_000;
export const MODEL_BYTES = ggufBytes(MODEL_SIZE);

/** A manifest entry for the fake HTTPS server (manifest URLs must be https). */
export function manifestFor(base: string, entries: { id: string; path: string; sha256?: string | null; sizeBytes?: number }[]): string {
  return JSON.stringify({
    version: 1,
    models: entries.map((e) => ({
      id: e.id, name: e.id, family: 'test-family', tier: 'small', format: 'gguf', quantization: 'Q8_0',
      url: `${base}${e.path}`, sizeBytes: e.sizeBytes ?? MODEL_SIZE, sha256: e.sha256 === undefined ? null : e.sha256,
      ...(e.sha256 === undefined || e.sha256 === null ? { notes: 'test model without a hash' } : {}),
      fim: { format: 'qwen', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>' },
      chatTemplate: 'chatml', licence: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' }, minRamBytes: 268435456,
      parameters: { total: 1000, active: 1000 }, contextLength: 512, purpose: 'completion',
    })),
  });
}

function modelCases(): CliCase[] {
  const sha = createHash('sha256').update(MODEL_BYTES).digest('hex');
  const dl = (id: string, path: string, code: number, msg: RegExp, extra: Partial<CliCase> = {}, entry: { sha256?: string | null; sizeBytes?: number } = { sha256: sha }): CliCase => ({
    name: `models download from a server that ${id}`,
    needsHttps: true,
    setup: (f) => writeFileSync(join(f.dir, 'manifest.json'), manifestFor(f.https!, [{ id: 'm', path, ...entry }])),
    args: ['models', 'download', 'm', '--manifest', 'manifest.json', '--dir', 'models', '--stall-timeout', '1'],
    code,
    msg,
    outputs: ['models'],
    // The models folder is made, and a resumable partial may stay (never larger than the model: checked below).
    outputOnFailure: true,
    check: (f) => {
      let files: string[] = [];
      try { files = readdirSync(join(f.dir, 'models')); } catch { /* none */ }
      for (const n of files) if (statSync(join(f.dir, 'models', n)).size > MODEL_SIZE) return `${n} is larger than the model`;
      if (code !== 0 && files.some((n) => n.endsWith('.gguf'))) return 'a failed download left a model file';
      return undefined;
    },
    ...extra,
  });
  return [
    dl('sends the model → verified', '/ok.gguf', 0, /SHA-256 verified against the manifest/, {
      check: (f) => (readFileSync(join(f.dir, 'models', 'm.gguf')).equals(MODEL_BYTES) ? undefined : 'the file differs'),
    }),
    dl('sends more than sizeBytes (no Content-Length) → stopped at the size', '/more.gguf', 1, /sent more than the model's 200000 bytes.*nothing was kept/),
    dl('never stops sending → stopped at the size', '/endless.gguf', 1, /sent more than the model's 200000 bytes/),
    dl('announces a Content-Length that disagrees with the manifest', '/cl.gguf', 1, /is 300000 bytes but the manifest says 200000/),
    dl('stalls after 1000 bytes → stall timeout, resumable', '/stall.gguf', 1, /sent nothing for 1 s/, { timeoutMs: 60_000 }),
    dl('answers 404', '/404.gguf', 1, /does not exist \(HTTP 404\)/),
    dl('answers 401', '/401.gguf', 1, /refused the download \(HTTP 401\).*HF_TOKEN/),
    dl('sends an HTML page instead of a model', '/html.gguf', 1, /did not send a GGUF file/),
    dl('sends the right size but wrong bytes → hash mismatch, deleted', '/bad.gguf', 1, /failed verification: its SHA-256/),
    dl('ends the body early', '/short.gguf', 1, /ended early|broke off/),
    {
      name: 'models list: a downloaded model changed in place (same size) is NOT verified',
      needsHttps: true,
      setup: (f) => {
        mkdirSync(join(f.dir, 'models'));
        writeFileSync(join(f.dir, 'models', 'm.gguf'), ggufBytes(MODEL_SIZE).fill(0x62, 100));
        writeFileSync(join(f.dir, 'models', 'm.gguf.verified.json'), JSON.stringify({ url: 'x', sizeBytes: MODEL_SIZE, sha256: sha, verifiedBy: 'manifest', verifiedAt: '2026-01-01T00:00:00Z' }));
        writeFileSync(join(f.dir, 'manifest.json'), manifestFor(f.https!, [{ id: 'm', path: '/ok.gguf', sha256: sha }]));
      },
      args: ['models', 'list', '--manifest', 'manifest.json', '--dir', 'models'],
      code: 0,
      msg: /NOT verified: its SHA-256 no longer matches/,
    },
    {
      name: 'models list: small sizes in the right unit (not "0.0 GB")',
      needsHttps: true,
      setup: (f) => writeFileSync(join(f.dir, 'manifest.json'), manifestFor(f.https!, [{ id: 'm', path: '/ok.gguf', sha256: sha }])),
      args: ['models', 'list', '--manifest', 'manifest.json', '--dir', 'models'],
      code: 0,
      msg: /200\.0 kB/,
      check: (_f, o) => (/0\.0 GB/.test(o.stdout) ? 'a size printed as 0.0 GB' : undefined),
    },
    { name: 'models download: an id not in the manifest', needsHttps: true, setup: (f) => writeFileSync(join(f.dir, 'manifest.json'), manifestFor(f.https!, [{ id: 'm', path: '/ok.gguf', sha256: sha }])), args: ['models', 'download', 'nope', '--manifest', 'manifest.json', '--dir', 'models'], code: 1, msg: /no model "nope" in .*manifest\.json; `hearth models list` shows the ids/ },
    { name: 'models list: a manifest that is not JSON', setup: (f) => writeFileSync(join(f.dir, 'manifest.json'), '{ nope'), args: ['models', 'list', '--manifest', 'manifest.json', '--dir', 'models'], code: 1, msg: /manifest\.json/ },
    { name: 'models delete: an id that is not there', args: ['models', 'delete', 'ghost', '--dir', 'models'], code: 1, msg: /no model "ghost" in .*models/ },
    { name: 'models delete: a path as id is refused', args: ['models', 'delete', '../etc', '--dir', 'models'], code: 1, msg: /"\.\.\/etc" is not a model id/ },
  ];
}

function engineCases(): CliCase[] {
  return [
    {
      name: 'engine: status with a relative --model resolves in the caller\'s folder (a corrupt local file is reported, by name, once)',
      engine: true,
      setup: (f) => { writeFileSync(join(f.dir, 'm.gguf'), 'GGUF but not really a model at all'); },
      args: ['status', '--model', 'm.gguf'],
      code: 1,
      msg: /m\.gguf/,
      timeoutMs: 90_000,
      check: (f, o) => {
        const text = o.stdout + o.stderr;
        if (!text.includes(join(f.dir, 'm.gguf'))) return `the message does not name ${join(f.dir, 'm.gguf')}: ${text}`;
        const lines = text.split('\n').filter((l) => /m\.gguf/.test(l));
        const distinct = new Set(lines.map((l) => l.replace(/^\[\w+\] \w+: /, '').replace(/^hearth status: /, '')));
        return lines.length > distinct.size || lines.length > 2 ? `the error was printed ${lines.length} times` : undefined;
      },
    },
    {
      name: 'engine: Ctrl-C during generation stops it quickly (exit 130)',
      engine: true,
      setup: (f) => writeFileSync(join(f.dir, 'p.txt'), 'def fibonacci(n):\n    '),
      args: (f) => ['complete', '--model', join(f.repo, 'models', 'hearth-code-tiny.gguf'), '--max-tokens', '4000', 'p.txt'],
      sigintOnStdoutBytes: 1,
      code: 130,
      msg: /cancelled|tokens/,
      timeoutMs: 90_000,
      check: (_f, o) => {
        notes.push(`Ctrl-C during generation → exit after ${o.sigintToExitMs} ms (load ${loadavg()[0]!.toFixed(1)})`);
        return o.sigintToExitMs !== undefined && o.sigintToExitMs > 1500 ? `exit came ${o.sigintToExitMs} ms after Ctrl-C` : undefined;
      },
    },
  ];
}

function engineKillCase(): CliCase {
  let killed = false;
  return {
    name: 'engine: the engine is killed mid-stream → exit 1, one message saying so, the next command starts a new one',
    engine: true,
    setup: (f) => writeFileSync(join(f.dir, 'p.txt'), 'def fibonacci(n):\n    '),
    args: (f) => ['complete', '--model', join(f.repo, 'models', 'hearth-code-tiny.gguf'), '--max-tokens', '4000', 'p.txt'],
    onStdout: (f) => {
      if (killed) return;
      killed = true;
      const { pid } = JSON.parse(readFileSync(join(f.runtimeDir, 'engine.json'), 'utf8')) as { pid: number };
      process.kill(pid, 'SIGKILL'); // the engine this suite started (its own runtime folder)
    },
    code: 1,
    msg: /engine.*(killed|exited|closed)/i,
    timeoutMs: 90_000,
    check: (_f, o) => {
      const n = (o.stdout + o.stderr).split('The Hearth engine (pid').length - 1;
      return n > 1 ? `the engine's exit was reported ${n} times` : undefined;
    },
  };
}

function unreadableCase(): CliCase[] {
  // As root every file is readable: the case cannot be set up there.
  if (typeof process.getuid === 'function' && process.getuid() === 0) return [];
  return [{
    name: 'redact: an unreadable file is named and skipped, the rest is written, exit 1',
    setup: (f) => { redactTree(f); writeFileSync(join(f.dir, 'in', 'locked.txt'), 'x'); chmodSync(join(f.dir, 'in', 'locked.txt'), 0); },
    args: ['redact', '--in', 'in', '--out', 'out'],
    code: 1,
    msg: /skipped .*locked\.txt: not readable/,
    outputs: ['out'],
    outputOnFailure: true,
  }];
}

/** Every CLI case of the suite. */
export function cliCases(): CliCase[] {
  return [...usageCases(), ...ledgerCases(), ...redactCases(), ...unreadableCase(), ...modelCases(), ...engineCases(), engineKillCase()];
}

