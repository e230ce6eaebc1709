import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { replayTasks } from '../../bench/replayTasks';

const root = resolve(__dirname, '../../..');
const files = ['src/node/engine/scheduler.ts', 'src/common/settings.ts'].map((p) => ({ path: p, text: readFileSync(resolve(root, p), 'utf8') }));

describe('bench:engine-speed replay tasks', () => {
  const tasks = replayTasks(files, 4);

  it('leaves a rest of line to generate between prefix and suffix (session 5 replayed an empty middle)', () => {
    assert.ok(tasks.length >= 8);
    for (const t of tasks) {
      const text = files.find((f) => f.path === t.file)!.text;
      assert.ok(t.expected.trim().length >= 4, JSON.stringify(t.expected));
      assert.ok(!t.expected.includes('\n'));
      // prefix + expected + (line end) + suffix are contiguous in the file: the middle is exactly `expected`.
      const at = text.indexOf(t.prefix + t.expected);
      assert.ok(at >= 0);
      const after = at + t.prefix.length + t.expected.length;
      assert.equal(text.slice(after).replace(/^[ \t]*/, '').startsWith(t.suffix), true);
      assert.ok(t.suffix.startsWith('\n'));
    }
  });

  it('marks the copyable group by the prefix holding the expected text, and is deterministic', () => {
    const copy = tasks.filter((t) => t.group === 'copy');
    assert.ok(copy.length > 0);
    for (const t of copy) assert.ok(t.copyable && t.prefix.includes(t.expected));
    assert.deepEqual(replayTasks(files, 4), tasks);
  });
});
