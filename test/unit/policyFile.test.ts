import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPolicyFile } from '../../src/node/policy/policyFile';

describe('policy file on disk', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'hearth-policy-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => {
    mkdirSync(join(dir, '.hearth'), { recursive: true });
    writeFileSync(join(dir, '.hearth', 'policy.jsonc'), text);
  };

  it('a missing file is no repo policy', async () => {
    assert.equal(await readPolicyFile(dir), undefined);
  });

  it('reads a valid file (with a byte-order mark)', async () => {
    write('\uFEFF{ "version": 1, "neverSend": ["x/**"], }');
    assert.deepEqual(await readPolicyFile(dir), { version: 1, neverSend: ['x/**'] });
  });

  it('an invalid file is an error with positions', async () => {
    write('\uFEFF{\n  "version": 1,\n  "consent": "never"\n}');
    const r = await readPolicyFile(dir);
    assert.ok(r && 'error' in r);
    assert.equal(r.error.problems[0]!.line, 3);
    assert.equal(r.error.problems[0]!.column, 14);
    assert.match(r.error.message, /consent/);
  });

  it('an unreadable file is an error, not a missing policy', async () => {
    mkdirSync(join(dir, '.hearth', 'policy.jsonc'), { recursive: true }); // a folder where the file should be
    const r = await readPolicyFile(dir);
    assert.ok(r && 'error' in r);
    assert.match(r.error.message, /cannot be read: EISDIR/);
  });
});
