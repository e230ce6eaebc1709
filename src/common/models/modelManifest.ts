/**
 * The vetted models manifest (`models-manifest/models.json`): its schema, its types and the one function that
 * turns untrusted JSON into a typed manifest (style rule 6). Pure: no Node or editor imports, so the downloader
 * (`node/models`), the model picker (`vscode/models`) and the CLI all parse it the same way.
 */
import { z } from 'zod';

export const MANIFEST_VERSION = 1;

/** demo: the project's own tiny model; small: any laptop; medium: 16 GB machines; large: 32 GB and up. */
export const ModelTier = z.enum(['demo', 'small', 'medium', 'large']);
export type ModelTier = z.infer<typeof ModelTier>;

export const ModelFormat = z.enum(['gguf', 'openvino-ir']);
export type ModelFormat = z.infer<typeof ModelFormat>;

export const FimFormat = z.enum(['deepseek', 'qwen', 'codellama', 'starcoder', 'none']);
export type FimFormat = z.infer<typeof FimFormat>;

export const ChatTemplateFamily = z.enum(['deepseek', 'chatml', 'llama3', 'none']);
export type ChatTemplateFamily = z.infer<typeof ChatTemplateFamily>;

export const ModelPurpose = z.enum(['completion', 'chat', 'both']);
export type ModelPurpose = z.infer<typeof ModelPurpose>;

/**
 * The literal FIM control tokens each family was trained with. DeepSeek's use U+FF5C FULLWIDTH VERTICAL LINE
 * and U+2581 LOWER ONE EIGHTH BLOCK, which look like `|` and `_` but are not: a manifest typed by hand with
 * the ASCII look-alikes would silently produce prompts the model has never seen, so the schema insists on
 * these exact strings.
 */
export const KNOWN_FIM_TOKENS: Readonly<Record<Exclude<FimFormat, 'none'>, FimTokenStrings>> = {
  deepseek: { prefix: '<\uFF5Cfim\u2581begin\uFF5C>', suffix: '<\uFF5Cfim\u2581hole\uFF5C>', middle: '<\uFF5Cfim\u2581end\uFF5C>' },
  qwen: { prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>' },
  codellama: { prefix: '<PRE>', suffix: '<SUF>', middle: '<MID>' },
  starcoder: { prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>' },
};
export interface FimTokenStrings {
  prefix: string;
  suffix: string;
  middle: string;
}

const token = z.string({ error: 'must be the literal token text' }).min(1, { error: 'must not be empty' });

export const FimSpec = z.discriminatedUnion('format', [
  z.strictObject({
    format: z.literal('none'),
    prefix: z.null({ error: 'must be null when the format is "none"' }),
    suffix: z.null({ error: 'must be null when the format is "none"' }),
    middle: z.null({ error: 'must be null when the format is "none"' }),
  }),
  z.strictObject({
    format: z.enum(['deepseek', 'qwen', 'codellama', 'starcoder']),
    prefix: token,
    suffix: token,
    middle: token,
  }),
]);
export type FimSpec = z.infer<typeof FimSpec>;

/** An SPDX identifier (`Apache-2.0`) or, for licences SPDX does not list, a name and where to read it. */
export const Licence = z.union([
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.+-]*$/, { error: 'must be an SPDX identifier such as "Apache-2.0"' }),
  z.strictObject({
    name: z.string().min(1, { error: 'must name the licence' }),
    url: z.url({ protocol: /^https$/, error: 'must be an https link to the licence text' }),
  }),
]);
export type Licence = z.infer<typeof Licence>;

// Kebab-case, with a dot allowed only between digits so version numbers read naturally ("qwen2.5-coder-1.5b").
const KEBAB = /^[a-z0-9]+(?:(?:-|(?<=[0-9])\.(?=[0-9]))[a-z0-9]+)*$/;
const byteCount = z
  .number({ error: 'must be a number of bytes' })
  .int({ error: 'must be a whole number of bytes' })
  .positive({ error: 'must be more than 0 bytes' });
const positiveCount = z.number({ error: 'must be a number' }).positive({ error: 'must be more than 0' });

export const ModelParameters = z.strictObject({
  total: positiveCount,
  active: positiveCount,
});

/** A URL the downloader may fetch: https for real models, `hearth:` only for the demo tier (checked below). */
const modelUrl = z
  .string({ error: 'must be a URL' })
  .regex(/^(?:https:\/\/[^\s/]+\/\S*|hearth:[a-z0-9][a-z0-9/._-]*)$/, {
    error: 'must be an https:// URL (or a hearth: URL for the demo model)',
  });

const ModelEntryShape = z.strictObject({
  id: z.string({ error: 'must be text' }).regex(KEBAB, {
    error: 'must be kebab-case: lowercase letters and digits joined by single hyphens (a dot only inside a version number)',
  }),
  name: z.string({ error: 'must be text' }).min(1, { error: 'must not be empty' }),
  family: z.string({ error: 'must be text' }).regex(KEBAB, { error: 'must be kebab-case, such as "qwen2.5-coder"' }),
  tier: ModelTier,
  format: ModelFormat,
  quantization: z.string({ error: 'must be text' }).regex(/^[A-Za-z0-9_]+$/, {
    error: 'must be a quantization name such as "Q4_K_M" or "Q8_0"',
  }),
  url: modelUrl,
  sizeBytes: byteCount.nullable(),
  /** Set when only a rounded size could be found; the downloader then treats sizeBytes as a hint. */
  sizeApproximate: z.boolean({ error: 'must be true or false' }).optional(),
  sha256: z
    .string({ error: 'must be 64 hex digits or null' })
    .regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lowercase hex digits (or null, with a note saying why)' })
    .nullable(),
  fim: FimSpec,
  chatTemplate: ChatTemplateFamily,
  licence: Licence,
  minRamBytes: byteCount,
  parameters: ModelParameters.nullable(),
  contextLength: z.number({ error: 'must be a number of tokens' }).int({ error: 'must be a whole number of tokens' }).positive({ error: 'must be more than 0' }),
  purpose: ModelPurpose,
  notes: z.string({ error: 'must be text' }).min(1, { error: 'must not be empty (leave the field out instead)' }).optional(),
});

/** Rules that span fields; each issue names the field a maintainer has to change. */
function refineEntry(m: z.infer<typeof ModelEntryShape>, ctx: z.RefinementCtx): void {
  const demo = m.tier === 'demo';
  const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });

  if (m.url.startsWith('hearth:') && !demo) fail('url', 'must be an https:// URL; hearth: URLs are only for the demo tier');
  if (m.format === 'gguf' && m.url.startsWith('https:') && !/\.gguf(?:\?[^#]*)?$/.test(m.url)) {
    fail('url', 'must point at a .gguf file when the format is "gguf"');
  }
  if (m.sizeBytes === null && !demo) fail('sizeBytes', 'may only be null for the demo tier');
  if (m.parameters === null && !demo) fail('parameters', 'may only be null for the demo tier');
  if (m.sha256 === null && !m.notes) fail('notes', 'must say why sha256 is null');
  if (m.sizeApproximate && !m.notes) fail('notes', 'must say where the approximate size came from');
  if (m.parameters && m.parameters.active > m.parameters.total) {
    fail('parameters', 'active parameters cannot exceed total parameters');
  }
  if (m.sizeBytes !== null && m.minRamBytes < m.sizeBytes) {
    fail('minRamBytes', 'must be at least the file size (the weights are mapped into memory)');
  }
  if (m.fim.format !== 'none') {
    const known = KNOWN_FIM_TOKENS[m.fim.format];
    for (const k of ['prefix', 'suffix', 'middle'] as const) {
      if (m.fim[k] !== known[k]) {
        ctx.addIssue({
          code: 'custom',
          path: ['fim', k],
          message: `must be exactly ${JSON.stringify(known[k])} for the "${m.fim.format}" format`,
        });
      }
    }
  }
  if (!demo && m.purpose !== 'chat' && m.fim.format === 'none') {
    fail('fim', 'a model offered for completion needs a fill-in-the-middle format');
  }
  if (!demo && m.purpose !== 'completion' && m.chatTemplate === 'none') {
    fail('chatTemplate', 'a model offered for chat needs a chat template family');
  }
}

export const ModelEntry = ModelEntryShape.superRefine(refineEntry);
export type ModelEntry = z.infer<typeof ModelEntry>;

/**
 * Superrefinement for the model list: ids must be unique (they name the file on disk and the saved setting),
 * and so must URLs (two entries with one URL would download over each other).
 */
export function uniqueModelIds(models: readonly { id: string; url: string }[], ctx: z.RefinementCtx): void {
  const seenId = new Map<string, number>();
  const seenUrl = new Map<string, number>();
  models.forEach((m, i) => {
    const firstId = seenId.get(m.id);
    if (firstId !== undefined) {
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicates the id of models[${firstId}] ("${m.id}")` });
    } else seenId.set(m.id, i);
    const firstUrl = seenUrl.get(m.url);
    if (firstUrl !== undefined) {
      ctx.addIssue({ code: 'custom', path: [i, 'url'], message: `duplicates the url of models[${firstUrl}]` });
    } else seenUrl.set(m.url, i);
  });
}

export const ModelManifest = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(MANIFEST_VERSION, { error: `must be ${MANIFEST_VERSION}` }),
  models: z.array(ModelEntry).min(1, { error: 'must list at least one model' }).superRefine(uniqueModelIds),
});
export type ModelManifest = z.infer<typeof ModelManifest>;

/** Thrown by {@link parseManifest}; `problems` holds one plain-words line per failing field. */
export class ManifestError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source} is not a valid model manifest:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ManifestError';
  }
}

/**
 * Parses and checks a manifest. Throws a {@link ManifestError} whose message names `source` and, for each
 * problem, the field path (with the model's id when it has one) and what is wrong with it.
 */
export function parseManifest(json: unknown, source: string): ModelManifest {
  const result = ModelManifest.safeParse(json, { reportInput: true });
  if (result.success) return result.data;
  throw new ManifestError(source, flattenUnions(result.error.issues).map((issue) => describeIssue(issue, json)));
}

/** {@link parseManifest} for raw file text, so a JSON syntax error also names the file. */
export function parseManifestText(text: string, source: string): ModelManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(source, [`not valid JSON: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return parseManifest(json, source);
}

/** The entry with this id, or undefined (for example an id saved by a newer build). */
export function findModel(manifest: ModelManifest, id: string): ModelEntry | undefined {
  return manifest.models.find((m) => m.id === id);
}

// ---- error messages ------------------------------------------------------------------------------------

type Issue = z.core.$ZodIssue;

/**
 * A failed plain union (the licence: an SPDX string or a name and URL) reports every alternative's errors.
 * Alternatives that failed only because the value had the wrong type were not what the author meant, so when
 * exactly one alternative is left its issues replace the union's, with their paths made absolute.
 */
function flattenUnions(issues: readonly Issue[]): Issue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || 'discriminator' in issue) return [issue];
    const meant = issue.errors.filter((b) => !(b.length === 1 && b[0].code === 'invalid_type' && b[0].path.length === 0));
    if (meant.length !== 1) return [issue];
    return flattenUnions(meant[0].map((sub) => ({ ...sub, path: [...issue.path, ...sub.path] }) as Issue));
  });
}

function describeIssue(issue: Issue, root: unknown): string {
  const where = describePath(issue.path, root);
  return `${where}: ${explain(issue, root)}`;
}

/** `models[2] ("qwen2.5-coder-7b") → fim.prefix`, or `(top level)`. */
function describePath(path: readonly PropertyKey[], root: unknown): string {
  if (path.length === 0) return 'top level';
  let text = '';
  path.forEach((seg, i) => {
    text += typeof seg === 'number' ? `[${seg}]` : `${i === 0 ? '' : '.'}${String(seg)}`;
  });
  if (path[0] === 'models' && typeof path[1] === 'number') {
    const id = valueAt(root, ['models', path[1], 'id']);
    if (typeof id === 'string' && id) {
      const head = `models[${path[1]}] ("${id}")`;
      const rest = text.slice(`models[${path[1]}]`.length).replace(/^\./, '');
      return rest ? `${head} field ${rest}` : head;
    }
  }
  return `field ${text}`;
}

function explain(issue: Issue, root: unknown): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling; unknown fields are not allowed)`;
    case 'invalid_type':
      if (!hasPath(root, issue.path)) return 'is missing (it is required)';
      return issue.message.startsWith('Invalid input') ? `must be ${article(issue.expected)}` : issue.message;
    case 'invalid_value':
      if (issue.values.length === 1) return `must be ${JSON.stringify(issue.values[0])}`;
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${'input' in issue ? ` (got ${JSON.stringify(issue.input)})` : ''}`;
    case 'invalid_union':
      // zod's discriminated union adds `discriminator` and `options` to the issue without typing them.
      if ('discriminator' in issue) {
        const options = (issue as { options?: unknown[] }).options ?? [];
        return `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}`;
      }
      if (issue.errors.every((b) => b.length === 1 && b[0].code === 'invalid_type' && b[0].path.length === 0)) {
        return `must be ${issue.errors.map((b) => article((b[0] as { expected: string }).expected)).join(' or ')}`;
      }
      return `matches none of the allowed forms (${issue.errors.flat().map((e) => e.message).join('; or ') || 'no alternative matched'})`;
    default:
      return issue.message;
  }
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function hasPath(root: unknown, path: readonly PropertyKey[]): boolean {
  if (path.length === 0) return root !== undefined;
  const parent = valueAt(root, path.slice(0, -1));
  return parent !== null && typeof parent === 'object' && Object.prototype.hasOwnProperty.call(parent, path[path.length - 1]);
}
