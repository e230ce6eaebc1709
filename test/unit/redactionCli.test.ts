import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Runs the built CLI bundle (`node esbuild.config.mjs` builds dist/cli.js) on a temporary tree. */
describe('hearth redact (dist/cli.js)', function () {
  this.timeout(30_000);
  const cli = resolve(__dirname, '../../../dist/cli.js');
  let dir: string;
  const secret = 'sk_' + 'live_' + 'Zq8Rt2Vb6Nm4Lk0Jh8Gf6Ds4';
  const password = 'hunter2';

  before(function () {
    if (!existsSync(cli)) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'hearth-redact-'));
    mkdirSync(join(dir, 'in/src/deep'), { recursive: true });
    mkdirSync(join(dir, 'in/.git'), { recursive: true });
    writeFileSync(join(dir, 'in/.env'), `STRIPE_SECRET_KEY=${secret}\nDB_PASSWORD=${password}\n`);
    writeFileSync(join(dir, 'in/src/deep/app.ts'), `const key = '${secret}';\nconst id = '123e4567-e89b-12d3-a456-426614174000';\n`);
    writeFileSync(join(dir, 'in/logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]));
    writeFileSync(join(dir, 'in/.git/config'), `token=${secret}\n`);
  });

  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('writes redacted copies at the same paths, skips binaries and .git, and prints counts but no values', () => {
    const res = spawnSync(process.execPath, [cli, 'redact', '--in', join(dir, 'in'), '--out', join(dir, 'out')], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(readFileSync(join(dir, 'out/.env'), 'utf8'), 'STRIPE_SECRET_KEY=[REDACTED:stripe-secret-key#1]\nDB_PASSWORD=[REDACTED:password#1]\n');
    assert.equal(readFileSync(join(dir, 'out/src/deep/app.ts'), 'utf8'), "const key = '[REDACTED:stripe-secret-key#1]';\nconst id = '123e4567-e89b-12d3-a456-426614174000';\n");
    assert.ok(!existsSync(join(dir, 'out/logo.png')));
    assert.ok(!existsSync(join(dir, 'out/.git')));
    assert.match(res.stderr, /stripe-secret-key\s+2/);
    assert.match(res.stderr, /password\s+1/);
    assert.ok(!res.stderr.includes(secret) && !res.stdout.includes(secret) && !res.stderr.includes(password));
  });

  it('exits 2 with the usage when --in or --out is missing', () => {
    const res = spawnSync(process.execPath, [cli, 'redact', '--in', dir], { encoding: 'utf8' });
    assert.equal(res.status, 2);
    assert.match(res.stderr, /hearth redact --in DIR --out DIR/);
  });
});
