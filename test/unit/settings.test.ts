import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { allSettings, configurationProperties } from '../../src/common/settings';

describe('settings', () => {
  const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8'));

  it('package.json declares exactly the settings declared in code', () => {
    assert.deepEqual(pkg.contributes.configuration.properties, configurationProperties());
  });

  it('every setting key is unique and under hearth.', () => {
    const keys = allSettings.map((s) => s.key);
    assert.equal(new Set(keys).size, keys.length);
    for (const k of keys) assert.match(k, /^hearth\.[a-z]+(\.[a-zA-Z]+)+$/);
  });

  it('every command in package.json has the Hearth category and a title', () => {
    for (const c of pkg.contributes.commands) {
      assert.equal(c.category, 'Hearth');
      assert.match(c.command, /^hearth\./);
      assert.ok(c.title.length > 0);
    }
  });
});
