/**
 * Fill-in-the-middle templates and stop strings per model family, chosen from the GGUF metadata (the tokenizer's
 * special tokens, the architecture, the model name), and where each family wants repository context (other files)
 * placed. Pure: the engine passes what it read from the GGUF, the tests pass metadata objects.
 *
 * Sources: each family's model card / reference FIM format (DeepSeek-Coder, Qwen2.5-Coder's repo-level format,
 * StarCoder2's, CodeLlama's infilling, Codestral's `[SUFFIX]…[PREFIX]…`, CodeGemma's).
 */

export const FIM_FAMILIES = ['deepseek-coder', 'deepseek-coder-v2', 'qwen2.5-coder', 'starcoder2', 'codellama', 'codestral', 'codegemma', 'generic'] as const;
export type FimFamily = (typeof FIM_FAMILIES)[number];

export interface FimTemplate {
  family: FimFamily;
  /** Special-token texts; `middle` null where the family has none (Codestral). */
  prefix: string;
  suffix: string;
  middle: string | null;
  /** psm: prefix, suffix, middle; spm: suffix first (Codestral). */
  order: 'psm' | 'spm';
  /** Text stops beyond the model's end-of-generation tokens: another file or FIM section starting. */
  stop: string[];
  /** Repository context: how one other file is written before the FIM prompt; undefined: as a comment block. */
  fileSeparator?: string;
  /** Repo-level format's opening (`<|repo_name|>name\n`), where the family has one. */
  repoName?: string;
}

const TEMPLATES: Record<FimFamily, FimTemplate> = {
  'deepseek-coder': { family: 'deepseek-coder', prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', order: 'psm', stop: ['<｜end▁of▁sentence｜>', '<|EOT|>', '<｜fim▁begin｜>'] },
  'deepseek-coder-v2': { family: 'deepseek-coder-v2', prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', order: 'psm', stop: ['<｜end▁of▁sentence｜>', '<｜fim▁begin｜>'] },
  'qwen2.5-coder': { family: 'qwen2.5-coder', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', order: 'psm', stop: ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>', '<|fim_prefix|>', '<|im_end|>'], fileSeparator: '<|file_sep|>', repoName: '<|repo_name|>' },
  starcoder2: { family: 'starcoder2', prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>', order: 'psm', stop: ['<|endoftext|>', '<file_sep>', '<fim_prefix>', '<repo_name>'], fileSeparator: '<file_sep>', repoName: '<repo_name>' },
  codellama: { family: 'codellama', prefix: '▁<PRE>', suffix: '▁<SUF>', middle: '▁<MID>', order: 'psm', stop: ['▁<EOT>', '<EOT>', '</s>'] },
  codestral: { family: 'codestral', prefix: '[PREFIX]', suffix: '[SUFFIX]', middle: null, order: 'spm', stop: ['</s>', '[PREFIX]', '[SUFFIX]'] },
  codegemma: { family: 'codegemma', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', order: 'psm', stop: ['<|file_separator|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<eos>'], fileSeparator: '<|file_separator|>' },
  generic: { family: 'generic', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', order: 'psm', stop: [] },
};

/** What the engine knows of a model: its GGUF architecture and name, and whether a special token exists. */
export interface ModelMetadata {
  architecture: string;
  name: string;
  /** Whether the tokenizer has this token (tokenizer.ggml.tokens), as one token. */
  hasToken: (text: string) => boolean;
}

/** The model family for FIM, from the tokenizer's special tokens first (they decide the format), then the names. */
export function detectFimFamily(meta: ModelMetadata): FimFamily {
  const name = meta.name.toLowerCase();
  const arch = meta.architecture.toLowerCase();
  if (meta.hasToken('<｜fim▁begin｜>')) return arch === 'deepseek2' || /v2/.test(name) ? 'deepseek-coder-v2' : 'deepseek-coder';
  if (meta.hasToken('<|fim_prefix|>') && meta.hasToken('<|file_separator|>')) return 'codegemma';
  if (meta.hasToken('<|fim_prefix|>') && (meta.hasToken('<|file_sep|>') || meta.hasToken('<|repo_name|>') || arch === 'qwen2' || /qwen/.test(name))) return 'qwen2.5-coder';
  if (meta.hasToken('<fim_prefix>')) return 'starcoder2';
  if (meta.hasToken('[SUFFIX]') && meta.hasToken('[PREFIX]')) return 'codestral';
  if (meta.hasToken('▁<PRE>') || meta.hasToken('<PRE>')) return 'codellama';
  if (/codestral/.test(name)) return 'codestral';
  if (/codegemma/.test(name) || arch === 'gemma') return 'codegemma';
  if (/starcoder/.test(name) || arch === 'starcoder2') return 'starcoder2';
  if (/code ?llama/.test(name)) return 'codellama';
  return 'generic';
}

export function fimTemplate(family: FimFamily): FimTemplate {
  return TEMPLATES[family];
}

/** A per-model override from settings: a family name, or explicit token texts. */
export type FimOverride = FimFamily | { prefix: string; suffix: string; middle?: string | null; order?: 'psm' | 'spm'; stop?: string[] };

/**
 * The template for a model: the settings' override for its file name or model name (exact match, or a `*` glob),
 * else the detected family's.
 */
export function templateFor(family: FimFamily, modelPath: string, modelName: string, overrides: Record<string, FimOverride> = {}): FimTemplate {
  const file = modelPath.split(/[\\/]/).pop() ?? modelPath;
  for (const [pattern, o] of Object.entries(overrides)) {
    const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
    if (!re.test(file) && !re.test(modelName)) continue;
    if (typeof o === 'string') return TEMPLATES[o];
    return { family: 'generic', prefix: o.prefix, suffix: o.suffix, middle: o.middle ?? null, order: o.order ?? 'psm', stop: o.stop ?? [] };
  }
  return TEMPLATES[family];
}

/** One chunk of repository context: a file path and a piece of its text. */
export interface ContextChunk {
  path: string;
  text: string;
}

/**
 * Repository context as the family expects it before the FIM prompt: Qwen2.5-Coder's repo-level format
 * (`<|repo_name|>repo\n<|file_sep|>path\ntext…<|file_sep|>current\n`), StarCoder2's (`<repo_name>repo<file_sep>path\ntext…`),
 * CodeGemma's file separator; other families get the chunks as comment-led plain text, which every code model reads.
 * `comment` is the current language's line comment.
 */
export function contextText(t: FimTemplate, chunks: readonly ContextChunk[], current: { path: string; repo: string; comment?: string }): string {
  if (!chunks.length) return '';
  if (t.family === 'qwen2.5-coder') {
    return `${t.repoName}${current.repo}\n${chunks.map((c) => `${t.fileSeparator}${c.path}\n${c.text}\n`).join('')}${t.fileSeparator}${current.path}\n`;
  }
  if (t.family === 'starcoder2') {
    return `${t.repoName}${current.repo}${chunks.map((c) => `${t.fileSeparator}${c.path}\n${c.text}\n`).join('')}${t.fileSeparator}${current.path}\n`;
  }
  if (t.family === 'codegemma') return chunks.map((c) => `${c.path}\n${c.text}\n${t.fileSeparator}`).join('');
  const comment = current.comment ?? '//';
  return chunks.map((c) => `${comment} ${c.path}\n${c.text}\n`).join('\n') + '\n';
}

/** Most characters after the middle token in a psm prompt (see psmMiddleStart): a minified line stays in the prefix. */
export const MAX_TYPED_IN_MIDDLE = 400;

/**
 * Where the middle starts in a psm prompt (the text between it and the cursor follows the middle token): where it
 * started in the document's last request (`previous`) while the text after the cursor is the same and the prefix
 * still begins with what preceded it (the user typed on, over one line or several, or took characters back), so
 * each keystroke evaluates only its own tokens, Enter included; else at the cursor line's start. Past
 * MAX_TYPED_IN_MIDDLE characters typed, or on a longer line, the prompt starts over at the cursor line's start (or
 * keeps the classic layout: the prefix's length).
 *
 * `lineAbove`: at a line's very start (after a jump, a click) the middle starts at the line above. The commonest next
 * key there is a backspace that takes the line break back; with the middle at the cursor that key moved the split
 * and read the whole suffix window again (bench:engine, benchDense: a backspace right after a jump evaluated 204
 * tokens, 6-8 s while other windows typed). The engine asks for it only for models whose prefill is slow enough to
 * matter (not the shipped tiny model, trained on middles that start at the cursor line: its battery scores fell
 * with the line above in the middle).
 */
export function psmMiddleStart(prefix: string, suffix: string, previous: { head: string; suffix: string } | undefined, lineAbove: boolean): number {
  if (previous && previous.suffix === suffix && prefix.length - previous.head.length <= MAX_TYPED_IN_MIDDLE && prefix.startsWith(previous.head)) return previous.head.length;
  const lineStart = prefix.lastIndexOf('\n') + 1;
  if (lineAbove && lineStart === prefix.length && lineStart > 1) {
    const above = prefix.lastIndexOf('\n', lineStart - 2) + 1;
    if (prefix.length - above <= MAX_TYPED_IN_MIDDLE) return above;
  }
  return prefix.length - lineStart <= MAX_TYPED_IN_MIDDLE ? lineStart : prefix.length;
}
