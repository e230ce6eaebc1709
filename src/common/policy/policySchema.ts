/**
 * The repo policy file `.hearth/policy.jsonc`: its zod schema (the one source of truth; the JSON Schema the editor
 * uses is generated from it) and the types parsed from it.
 */
import { z } from 'zod';
import { compileGlob } from './glob';

export const DATA_CLASSES = ['public', 'internal', 'sensitive', 'regulated'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];
export const DESTINATIONS = ['local', 'team', 'frontier'] as const;
export type Destination = (typeof DESTINATIONS)[number];
/** Destinations off this machine. */
export type RemoteDestination = Exclude<Destination, 'local'>;
export const LANES = ['completion', 'chat', 'escalation'] as const;
export type Lane = (typeof LANES)[number];
export type ConsentMode = 'always' | 'session';

/** Where the policy file lives, relative to its workspace folder. */
export const POLICY_FILE = '.hearth/policy.jsonc';

const globSchema = z
  .string()
  .min(1)
  .superRefine((g, ctx) => {
    try {
      compileGlob(g);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid glob: ${(err as Error).message}` });
    }
  })
  .meta({ description: 'A glob over workspace-relative paths: `*`, `**`, `?`, `[abc]`, `{a,b}`. Without `/` it matches a file or folder name at any depth; case-insensitive.' });

const dataClassSchema = z.enum(DATA_CLASSES).meta({
  description: 'public: may be published; internal: the company\'s ordinary code; sensitive: security-relevant or confidential; regulated: personal, health, payment or other regulated data.',
});

const destinationListSchema = z.array(z.enum(DESTINATIONS)).meta({
  description: 'local: Hearth\'s own model on this machine; team: the team\'s server (an OpenAI-compatible endpoint with destination "team"); frontier: cloud models.',
});

const laneRuleSchema = z
  .strictObject(Object.fromEntries(DATA_CLASSES.map((c) => [c, destinationListSchema.optional()])) as Record<DataClass, z.ZodOptional<typeof destinationListSchema>>)
  .meta({ description: 'For each data class, the destinations its content may go to in this lane. A class left out keeps Hearth\'s default for the lane (see "Hearth: Show Effective Policy").' });

const customPatternSchema = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Name of the pattern, shown in the warning before sending.' }),
    regex: z.string().min(1).meta({ description: 'JavaScript regular expression. With a capture group (or a group named `secret`), only that group is redacted.' }),
    flags: z.string().regex(/^[imsuy]*$/, 'flags may only be i, m, s, u, y').optional().meta({ description: 'Regex flags (`g` is always added), e.g. "i".' }),
    category: z.string().min(1).optional().meta({ description: 'Category slug shown in placeholders (`[REDACTED:<category>#1]`) and ledger counts; defaults to the name.' }),
  })
  .superRefine((p, ctx) => {
    try {
      new RegExp(p.regex, `${p.flags ?? ''}gd`);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['regex'], message: `invalid regular expression: ${(err as Error).message}` });
    }
  });

const relativePathSchema = z
  .string()
  .min(1)
  .refine((p) => !/^([a-zA-Z]:)?[\\/]/.test(p) && !p.split(/[\\/]/).includes('..'), 'must be a path inside the workspace folder (relative, no "..")');

export const repoPolicySchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1).meta({ description: 'Version of the policy format. Always 1.' }),
    dataClasses: z
      .strictObject({
        default: dataClassSchema.optional().meta({ description: 'Class of content no rule matches (and of a conversation with no file). Default: internal.' }),
        rules: z
          .array(
            z.strictObject({
              match: z.union([globSchema, z.array(globSchema).min(1)]).meta({ description: 'Glob or globs of the files this rule classifies.' }),
              class: dataClassSchema,
            }),
          )
          .optional()
          .meta({ description: 'Rules in order; the first rule that matches a file gives its class.' }),
      })
      .optional()
      .meta({ description: 'Assigns each file a data class by globs (first match wins).' }),
    destinations: destinationListSchema.optional().meta({
      description: 'Destinations this repo allows at all. Left out: all three. Your settings can only narrow this further; a repo can never add one.',
    }),
    lanes: z
      .strictObject(Object.fromEntries(LANES.map((l) => [l, laneRuleSchema.optional()])) as Record<Lane, z.ZodOptional<typeof laneRuleSchema>>)
      .optional()
      .meta({ description: 'Per lane (completion, chat, escalation): which destinations each data class may go to.' }),
    neverSend: z.array(globSchema).optional().meta({ description: 'Files never sent off this machine, whatever the lane or class (added to your hearth.escalation.neverSend), e.g. "**/.env*", "**/secrets/**".' }),
    redaction: z
      .strictObject({
        disabledCategories: z.array(z.string()).optional().meta({
          description: 'Ignored in a repo policy: a repo cannot weaken redaction (only your own settings can switch off personal-data categories).',
          deprecationMessage: 'A repo policy cannot switch off redaction categories; Hearth ignores this list.',
        }),
        customPatterns: z.array(customPatternSchema).optional().meta({ description: 'Extra patterns to redact, on top of Hearth\'s detectors.' }),
      })
      .optional()
      .meta({ description: 'Redaction settings. A repo can add patterns; it cannot switch detectors off.' }),
    consent: z.enum(['always', 'session']).optional().meta({
      description: 'always: a modal warning before every escalation; session: one consent per destination per window session. The stricter of this and hearth.escalation.consent applies.',
    }),
    budgets: z
      .strictObject({
        perTaskUsd: z.number().min(0).optional().meta({ description: 'Most estimated US dollars one escalation may cost.' }),
        perMonthUsd: z.number().min(0).optional().meta({ description: 'Most US dollars escalations may cost per calendar month.' }),
      })
      .optional()
      .meta({ description: 'Budgets; the lower of these and your hearth.escalation.budget* settings applies.' }),
    ledger: z
      .strictObject({
        path: relativePathSchema.optional().meta({ description: 'Ledger file, relative to the workspace folder. Default: .hearth/ledger.jsonl.' }),
        includeText: z.boolean().optional().meta({ description: 'Record prompt and answer text in the ledger (off by default: only counts, costs and categories).' }),
      })
      .optional()
      .meta({ description: 'Workspace ledger options.' }),
    escalation: z
      .strictObject({
        enabled: z.boolean().optional().meta({ description: 'false turns escalation off for this repo. true cannot turn on what your settings (hearth.escalation.enabled) turned off.' }),
      })
      .optional()
      .meta({ description: 'Escalation switch for this repo (can only turn it off).' }),
    routing: z
      .strictObject({
        confidenceThresholds: z
          .strictObject({
            completion: z.number().max(0).optional().meta({ description: 'Below this confidence (mean log-probability per token, ≤ 0) a local completion is not shown as it is: Hearth offers the next tier the lanes allow.' }),
            chat: z.number().max(0).optional().meta({ description: 'The same for chat answers.' }),
          })
          .optional()
          .meta({ description: 'Per lane. A repo can only raise your hearth.routing.confidenceThresholds (a lower value is ignored). "Hearth: Run Task Battery" recommends one from this repo\'s own tasks.' }),
      })
      .optional()
      .meta({ description: 'Routing by confidence: when Hearth offers the next tier instead of a local answer it is not sure of. It never adds a destination: only tiers the lanes allow are offered.' }),
    endpoints: z
      .array(z.union([z.string().min(1), z.looseObject({})]))
      .optional()
      .meta({
        description: 'Ids of your hearth.escalation.endpoints this repo may use (left out: all of them). A repo cannot define endpoints: objects here are refused.',
      }),
  })
  .meta({
    title: 'Hearth repo policy (.hearth/policy.jsonc)',
    description: 'What may leave this machine, to where, and how it is redacted. It combines with your settings to the strictest of both.',
  });

export type RepoPolicy = z.infer<typeof repoPolicySchema>;
export type CustomPatternSpec = z.infer<typeof customPatternSchema>;

/**
 * The JSON Schema contributed for `.hearth/policy.jsonc` (committed as `schemas/policy.schema.json`; a unit test
 * checks the file equals this).
 */
export function policyJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(repoPolicySchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  // VS Code's JSON language service reads allowTrailingCommas/allowComments from the schema root.
  return { $schema, $id: 'https://hearth.dev/schemas/policy.schema.json', ...rest, allowComments: true, allowTrailingCommas: true };
}
