import * as assert from 'node:assert/strict';
import { TextStream } from '../../src/node/engine/textStream';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TextStream (batched text notifications)', () => {
  it('sends the first piece at once, joins the pieces of one interval, and loses nothing', async () => {
    const sent: string[] = [];
    const s = new TextStream((t) => sent.push(t), 40);
    s.push('a');
    assert.deepEqual(sent, ['a'], 'the first token is not delayed');
    for (const t of ['b', 'c', 'd']) s.push(t);
    assert.deepEqual(sent, ['a'], 'pieces within the interval wait');
    await sleep(80);
    assert.deepEqual(sent, ['a', 'bcd'], 'the timer sends them as one notification');
    s.push('e');
    s.push('');
    s.flush();
    s.flush();
    assert.deepEqual(sent, ['a', 'bcd', 'e']);
    assert.equal(sent.join(''), 'abcde');
  });

  it('sends far fewer notifications than tokens for a fast stream, and flush leaves no timer behind', async () => {
    const sent: string[] = [];
    const s = new TextStream((t) => sent.push(t), 30);
    for (let i = 0; i < 40; i++) {
      s.push(String(i % 10));
      await sleep(2);
    }
    s.flush();
    assert.equal(sent.join(''), Array.from({ length: 40 }, (_, i) => String(i % 10)).join(''));
    assert.ok(sent.length < 20, `${sent.length} notifications for 40 pieces`);
    const before = sent.length;
    await sleep(50);
    assert.equal(sent.length, before, 'nothing sent after flush');
  });
});
