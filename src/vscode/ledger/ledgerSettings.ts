import { costModelFromSettings } from '../../common/ledger/costModel';
import type { CostModel } from '../../common/ledger/ledgerAggregates';
import type { Logger } from '../../common/logger';
import { Settings } from '../../common/settings';
import { getSetting } from '../config';

const warned = new Set<string>();

/** Logs a settings problem once per window, not on every read. */
export function warnOnce(logger: Logger, message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  logger.warn(message);
}

/**
 * The cost model from the `hearth.cost.*` settings (invalid values fall back to defaults, with a logged warning).
 * Window-scoped: one price table per window, whatever folder's ledger is being read.
 */
export function readCostModel(logger: Logger): CostModel {
  const { cost, warnings } = costModelFromSettings({
    prices: getSetting(Settings.costPrices),
    localWatts: getSetting(Settings.costLocalWatts),
    energyPricePerKWh: getSetting(Settings.costEnergyPricePerKWh),
    currency: getSetting(Settings.costCurrency),
    frontierModel: getSetting(Settings.costFrontierModel),
  });
  for (const w of warnings) warnOnce(logger, w);
  return cost;
}
