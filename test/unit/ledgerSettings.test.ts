import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { costModelFromSettings } from '../../src/common/ledger/costModel';
import { DEFAULT_COST_MODEL } from '../../src/common/ledger/ledgerAggregates';
import { Settings } from '../../src/common/settings';
import { DEFAULT_LEDGER_PATH, resolveLedgerPath } from '../../src/node/ledger/ledgerFiles';

describe('ledger settings', () => {
  const raw = { prices: undefined, localWatts: undefined, energyPricePerKWh: undefined, currency: undefined, frontierModel: undefined };

  it('the cost settings default to the default cost model', () => {
    const { cost, warnings } = costModelFromSettings({
      prices: Settings.costPrices.default, localWatts: Settings.costLocalWatts.default, energyPricePerKWh: Settings.costEnergyPricePerKWh.default,
      currency: Settings.costCurrency.default, frontierModel: Settings.costFrontierModel.default,
    });
    assert.deepEqual(cost, DEFAULT_COST_MODEL);
    assert.deepEqual(warnings, []);
  });

  it('takes the user\'s values', () => {
    const { cost, warnings } = costModelFromSettings({ prices: { 'my-model': { inputPerMTok: 1, outputPerMTok: 2 } }, localWatts: 15, energyPricePerKWh: 0.25, currency: 'EUR', frontierModel: 'my-model' });
    assert.deepEqual(cost, { currency: 'EUR', prices: { 'my-model': { inputPerMTok: 1, outputPerMTok: 2 } }, localWatts: 15, energyPricePerKWh: 0.25, frontierModel: 'my-model' });
    assert.deepEqual(warnings, []);
  });

  it('drops only the bad entries, and says which', () => {
    const { cost, warnings } = costModelFromSettings({ ...raw, prices: { good: { inputPerMTok: 1, outputPerMTok: 1 }, bad: { inputPerMTok: -1, outputPerMTok: 1 } }, localWatts: 'lots', frontierModel: 'good' });
    assert.deepEqual(Object.keys(cost.prices), ['good']);
    assert.equal(cost.localWatts, DEFAULT_COST_MODEL.localWatts);
    assert.equal(warnings.length, 2);
    assert.match(warnings.join('\n'), /prices\["bad"\]: inputPerMTok/);
    assert.match(warnings.join('\n'), /localWatts/);
  });

  it('warns when the frontier model has no price', () => {
    const { warnings } = costModelFromSettings({ ...raw, frontierModel: 'gpt-9' });
    assert.match(warnings.join('\n'), /gpt-9.*no entry/);
  });

  it('resolves the ledger path; a workspace cannot point it outside its folder', () => {
    const folder = join('/', 'home', 'u', 'repo');
    assert.equal(resolveLedgerPath(folder, undefined, false).path, join(folder, DEFAULT_LEDGER_PATH));
    assert.equal(resolveLedgerPath(folder, 'logs/hearth.jsonl', true).path, join(folder, 'logs', 'hearth.jsonl'));
    const outside = resolveLedgerPath(folder, '../../.bashrc.jsonl', true);
    assert.equal(outside.path, join(folder, DEFAULT_LEDGER_PATH));
    assert.match(outside.warning!, /outside the folder/);
    assert.equal(resolveLedgerPath(folder, '/var/ledgers/repo.jsonl', true).path, join(folder, DEFAULT_LEDGER_PATH));
    assert.equal(resolveLedgerPath(folder, '/var/ledgers/repo.jsonl', false).path, '/var/ledgers/repo.jsonl');
    assert.match(resolveLedgerPath(folder, '.hearth/ledger.txt', false).warning!, /\.jsonl/);
  });
});
