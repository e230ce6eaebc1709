import * as assert from 'node:assert/strict';
import { chooseThreads } from '../../src/node/engine/threads';

describe('chooseThreads', () => {
  it('uses every core on an idle machine', () => assert.equal(chooseThreads(4, 0.1), 4));
  it('leaves busy cores to what holds them', () => assert.equal(chooseThreads(2, 1.2), 1));
  it('never goes below one thread', () => assert.equal(chooseThreads(2, 7), 1));
});
