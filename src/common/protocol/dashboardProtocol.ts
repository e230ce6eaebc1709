/**
 * Messages between the ROI dashboard webview and the extension (style rule 5: one file both sides import).
 * Both sides parse what they receive with these schemas (rule 6): the webview trusts nothing it is posted, and
 * the extension trusts nothing a webview posts back.
 */
// zod/mini: the webview bundle stays small (the classic API pulls in every locale); same parsing, same types.
import * as z from 'zod/mini';

const series = z.array(z.nullable(z.number()));
const rate = z.nullable(z.number());
const count = z.int().check(z.minimum(0));

/** The per-week chart series: the same shape as the HTML report's data (`reportChartData`). */
export const chartDataSchema = z.object({
  weeks: z.array(z.string()),
  lanes: z.array(z.string()),
  costPerSuccess: z.record(z.string(), series),
  latencyP50: z.record(z.string(), series),
  latencyP95: z.record(z.string(), series),
  acceptanceByCount: series,
  acceptanceByChars: series,
  escalationRate: series,
  incidentRate: series,
  currency: z.string(),
});

/** One row of the summary table (a lane, or the total). */
export const dashboardRowSchema = z.object({
  label: z.string(),
  tasks: z.number(),
  successRate: rate,
  costPerSuccess: rate,
  latencyP50Ms: rate,
  latencyP95Ms: rate,
  acceptanceRate: rate,
  acceptanceRateByChars: rate,
  escalationRate: rate,
  incidents: z.number(),
  incidentRate: rate,
  totalCost: z.number(),
  costAvoided: rate,
  unknownCostTasks: z.number(),
});

/** A headline figure with what it means (`ledgerFigures`: the same text `hearth ledger stats` prints). */
export const figureSchema = z.object({ key: z.string(), label: z.string(), value: z.string(), note: z.string() });
export const outcomeRowSchema = z.object({ label: z.string(), count: z.number(), share: z.string() });

export const dashboardDataSchema = z.object({
  title: z.string(),
  generatedAt: z.string(),
  records: count,
  currency: z.string(),
  frontierModel: z.string(),
  total: z.nullable(dashboardRowSchema),
  figures: z.array(figureSchema),
  outcomes: z.array(outcomeRowSchema),
  /** What the cost figures assume (reference model, watts, energy price). */
  assumptions: z.string(),
  lanes: z.array(dashboardRowSchema),
  chart: chartDataSchema,
  integrity: z.object({ ok: z.boolean(), message: z.string() }),
});

export const hostToDashboardSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('data'), data: dashboardDataSchema }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);

export const dashboardToHostSchema = z.discriminatedUnion('type', [
  /** The page loaded and listens: send it the data. */
  z.object({ type: z.literal('ready') }),
  /** Charts drawn: how many, for how many records (the tests wait for this). */
  z.object({ type: z.literal('rendered'), charts: count, records: count }),
  /** A message the page could not use, or a chart that failed: logged by the extension. */
  z.object({ type: z.literal('problem'), message: z.string().check(z.maxLength(2000)) }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('export') }),
]);

export type DashboardData = z.infer<typeof dashboardDataSchema>;
export type DashboardRow = z.infer<typeof dashboardRowSchema>;
export type HostToDashboard = z.infer<typeof hostToDashboardSchema>;
export type DashboardToHost = z.infer<typeof dashboardToHostSchema>;
