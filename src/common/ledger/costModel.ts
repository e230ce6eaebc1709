/**
 * The cost model from user input (settings, or the CLI's `--costs FILE`), parsed at the edge with zod: what is
 * valid is kept, what is not falls back to the default with a warning the user can act on.
 */
import { z } from 'zod';
import { DEFAULT_COST_MODEL, type CostModel, type ModelPrice } from './ledgerAggregates';

export const modelPriceSchema = z.strictObject({ inputPerMTok: z.number().nonnegative().finite(), outputPerMTok: z.number().nonnegative().finite() });

/** Every field optional: omitted ones keep their defaults. */
export const costModelOverridesSchema = z.strictObject({
  currency: z.string().min(1).max(16).optional(),
  prices: z.record(z.string().min(1), modelPriceSchema).optional(),
  localWatts: z.number().nonnegative().finite().optional(),
  energyPricePerKWh: z.number().nonnegative().finite().optional(),
  frontierModel: z.string().min(1).optional(),
});

export type CostModelOverrides = z.infer<typeof costModelOverridesSchema>;

/** The raw values of the `hearth.cost.*` settings, as the editor returns them (anything a user typed). */
export interface RawCostSettings {
  prices: unknown;
  localWatts: unknown;
  energyPricePerKWh: unknown;
  currency: unknown;
  frontierModel: unknown;
}

/**
 * Builds the cost model from settings. Each field is checked on its own, and each price entry too, so one typo
 * in the price table costs that entry only. Warns when the frontier model has no price ("cost avoided" would be
 * meaningless).
 */
export function costModelFromSettings(raw: RawCostSettings, base: CostModel = DEFAULT_COST_MODEL): { cost: CostModel; warnings: string[] } {
  const warnings: string[] = [];
  const pick = <T>(key: keyof RawCostSettings, schema: z.ZodType<T>, fallback: T): T => {
    if (raw[key] === undefined) return fallback;
    const r = schema.safeParse(raw[key]);
    if (r.success) return r.data;
    warnings.push(`hearth.cost.${key}: ${r.error.issues[0]?.message ?? 'invalid'}; using ${JSON.stringify(fallback)}`);
    return fallback;
  };
  const prices: Record<string, ModelPrice> = {};
  if (raw.prices !== undefined && (typeof raw.prices !== 'object' || raw.prices === null || Array.isArray(raw.prices))) {
    warnings.push('hearth.cost.prices: not an object of model → { inputPerMTok, outputPerMTok }; using the defaults');
    Object.assign(prices, base.prices);
  } else {
    for (const [model, price] of Object.entries((raw.prices as Record<string, unknown> | undefined) ?? base.prices)) {
      const r = modelPriceSchema.safeParse(price);
      if (r.success) prices[model] = r.data;
      else warnings.push(`hearth.cost.prices["${model}"]: ${r.error.issues[0]?.path.join('.') || 'entry'}: ${r.error.issues[0]?.message ?? 'invalid'}; left out`);
    }
  }
  const cost: CostModel = {
    currency: pick('currency', costModelOverridesSchema.shape.currency.unwrap(), base.currency),
    prices,
    localWatts: pick('localWatts', costModelOverridesSchema.shape.localWatts.unwrap(), base.localWatts),
    energyPricePerKWh: pick('energyPricePerKWh', costModelOverridesSchema.shape.energyPricePerKWh.unwrap(), base.energyPricePerKWh),
    frontierModel: pick('frontierModel', costModelOverridesSchema.shape.frontierModel.unwrap(), base.frontierModel),
  };
  if (!cost.prices[cost.frontierModel]) {
    warnings.push(`hearth.cost.frontierModel "${cost.frontierModel}" has no entry in hearth.cost.prices: "cost avoided" counts it as free`);
  }
  return { cost, warnings };
}

/** Applies overrides (the CLI's `--costs FILE`) on the defaults; prices are merged by model. */
export function applyCostOverrides(o: CostModelOverrides, base: CostModel = DEFAULT_COST_MODEL): CostModel {
  return { ...base, ...o, prices: { ...base.prices, ...o.prices } };
}
