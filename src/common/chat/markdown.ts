/**
 * Model output to HTML, in two layers (model text is untrusted: a prompt injection in a file can make the model
 * write anything). Layer 1, here and pure (unit-tested in Node): `marked` with a renderer that prints raw HTML as
 * text, keeps only http(s)/mailto/#fragment links, never emits an image (a remote image would call home from
 * the page), and marks code blocks for the page's actions. Layer 2, in the page: DOMPurify with
 * {@link SANITIZE_CONFIG} over layer 1's output, so a bug in layer 1 still cannot run script.
 */
import { Marked, type Tokens } from './markedModule';

/** HTML-escapes text for element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Link targets kept as links; anything else (javascript:, data:, vbscript:, file:, command:) becomes text. */
export const SAFE_URL = /^(?:https?:\/\/|mailto:|#)/i;

/** Whether `href` may stay a link. Control characters and whitespace inside a scheme are a known bypass. */
export function isSafeHref(href: string): boolean {
  const squashed = href.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  return SAFE_URL.test(squashed) && squashed === href.trim();
}

/** What DOMPurify keeps (layer 2): formatting only; no images, media, forms, styles, frames or SVG. */
export const SANITIZE_CONFIG = {
  ALLOWED_TAGS: [
    'a', 'p', 'br', 'hr', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'h1', 'h2', 'h3',
    'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span', 'div', 'input',
  ],
  ALLOWED_ATTR: ['href', 'title', 'class', 'data-block', 'data-lang', 'start', 'align', 'type', 'checked', 'disabled'],
  ALLOW_DATA_ATTR: false,
  ALLOWED_URI_REGEXP: /^(?:https?:\/\/|mailto:|#)/i,
  FORBID_TAGS: ['script', 'style', 'img', 'iframe', 'object', 'embed', 'form', 'svg', 'math', 'link', 'meta', 'base', 'video', 'audio', 'source'],
  FORBID_ATTR: ['style', 'srcset', 'src', 'action', 'formaction', 'background', 'poster'],
  KEEP_CONTENT: true,
} as const;

/** A fenced code block found while rendering: its index in the message (the page's actions use it). */
export interface CodeBlock {
  index: number;
  language: string;
  code: string;
}

/** Renders one message's Markdown to (layer-1 safe) HTML and lists its code blocks. */
export function renderMarkdown(markdown: string): { html: string; blocks: CodeBlock[] } {
  const blocks: CodeBlock[] = [];
  const marked = new Marked({
    gfm: true,
    breaks: false,
    async: false,
    renderer: {
      html({ text }: Tokens.HTML | Tokens.Tag): string {
        return escapeHtml(text);
      },
      link(this: { parser: { parseInline(t: Tokens.Generic[]): string } }, { href, title, tokens }: Tokens.Link): string {
        const inner = this.parser.parseInline(tokens);
        if (!isSafeHref(href)) return `<span class="unsafe-link" title="link removed: not http(s)">${inner}</span>`;
        return `<a href="${escapeHtml(href)}"${title ? ` title="${escapeHtml(title)}"` : ''}>${inner}</a>`;
      },
      image({ href, text }: Tokens.Image): string {
        return `<span class="blocked-image" title="${escapeHtml(`image not loaded: ${href}`)}">[image: ${escapeHtml(text || 'no description')}]</span>`;
      },
      code({ text, lang }: Tokens.Code): string {
        const language = (lang ?? '').trim().split(/\s+/)[0]!.replace(/[^\w+#.-]/g, '').slice(0, 40);
        const index = blocks.length;
        blocks.push({ index, language, code: text });
        return `<pre class="code-block" data-block="${index}" data-lang="${escapeHtml(language)}"><code>${escapeHtml(text)}</code></pre>\n`;
      },
    },
  });
  const html = marked.parse(markdown) as string;
  return { html, blocks };
}
