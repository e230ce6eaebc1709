/**
 * Provider tokens recognised by their own format. Each pattern starts with a literal prefix that doubles as the
 * keyword prefilter, so a file without `ghp_` never runs the GitHub regex. Patterns use bounded repetition only.
 */
import { charClasses, isDocumentedExample } from './valueChecks';
import { isStandInToken } from './harmlessValues';
import { PRIORITY, tokenBoundary, type Detector } from './detector';

interface TokenPattern {
  category: string;
  keywords: readonly string[];
  regex: RegExp;
  /** Extra check on the matched value. */
  validate?: (value: string) => boolean;
  /** Check word boundaries around the match (default true). */
  boundary?: boolean;
}

const mixed = (min: number) => (v: string) => charClasses(v) >= min;

const PATTERNS: TokenPattern[] = [
  { category: 'aws-access-key-id', keywords: ['AKIA', 'ASIA'], regex: /(?:AKIA|ASIA)[A-Z2-7]{16}/g },
  { category: 'gcp-api-key', keywords: ['AIza'], regex: /AIza[0-9A-Za-z_-]{35}/g },
  { category: 'google-oauth-client-secret', keywords: ['GOCSPX-'], regex: /GOCSPX-[A-Za-z0-9_-]{28}/g },
  { category: 'github-pat', keywords: ['ghp_'], regex: /ghp_[A-Za-z0-9]{36}/g },
  { category: 'github-fine-grained-pat', keywords: ['github_pat_'], regex: /github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}/g },
  { category: 'github-oauth-token', keywords: ['gho_'], regex: /gho_[A-Za-z0-9]{36}/g },
  { category: 'github-app-token', keywords: ['ghu_', 'ghs_', 'ghr_'], regex: /gh[usr]_[A-Za-z0-9]{36}/g },
  { category: 'gitlab-token', keywords: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glcbt-', 'GR1348941'], regex: /(?:glpat|gldt|glrt|glptt|glcbt)-[A-Za-z0-9_-]{20,64}|GR1348941[A-Za-z0-9_-]{20}/g },
  { category: 'slack-bot-token', keywords: ['xoxb-'], regex: /xoxb-[0-9]{8,13}-[0-9]{8,13}-?[A-Za-z0-9]{0,32}/g },
  { category: 'slack-user-token', keywords: ['xoxp-', 'xoxa-', 'xoxo-', 'xoxs-', 'xoxr-', 'xapp-'], regex: /xox[paosr]-[0-9]{8,13}-[0-9A-Za-z-]{10,100}|xapp-\d-[A-Z0-9]{9,12}-\d{9,14}-[a-f0-9]{32,80}/g },
  { category: 'slack-webhook', keywords: ['hooks.slack.com/'], regex: /https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/+-]{20,120}/g, boundary: false },
  { category: 'stripe-secret-key', keywords: ['sk_live_', 'sk_test_'], regex: /sk_(?:live|test)_[A-Za-z0-9]{20,247}/g },
  { category: 'stripe-restricted-key', keywords: ['rk_live_', 'rk_test_'], regex: /rk_(?:live|test)_[A-Za-z0-9]{20,247}/g },
  { category: 'stripe-webhook-secret', keywords: ['whsec_'], regex: /whsec_[A-Za-z0-9]{32,64}/g },
  { category: 'twilio-api-key', keywords: ['SK'], regex: /SK[0-9a-f]{32}/g },
  { category: 'sendgrid-api-key', keywords: ['SG.'], regex: /SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/g },
  { category: 'anthropic-api-key', keywords: ['sk-ant-'], regex: /sk-ant-[a-z]{2,6}\d{2}-[A-Za-z0-9_-]{32,200}/g },
  {
    category: 'openai-api-key', keywords: ['sk-'], regex: /sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,200}/g,
    validate: (v) => !v.startsWith('sk-ant-') && mixed(3)(v.replace(/^sk-(?:proj|svcacct|admin|None)-/, '')),
  },
  { category: 'huggingface-token', keywords: ['hf_'], regex: /hf_[A-Za-z0-9]{34,40}/g, validate: mixed(2) },
  { category: 'npm-token', keywords: ['npm_'], regex: /npm_[A-Za-z0-9]{36}/g, validate: mixed(2) },
  { category: 'pypi-token', keywords: ['pypi-AgE'], regex: /pypi-AgE[A-Za-z0-9_-]{50,300}/g },
  { category: 'discord-webhook', keywords: ['/api/webhooks/'], regex: /https?:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/\d{5,30}\/[A-Za-z0-9_-]{30,100}/g, boundary: false },
  { category: 'telegram-bot-token', keywords: [':AA'], regex: /\d{8,10}:AA[A-Za-z0-9_-]{33}/g },
  { category: 'mailgun-api-key', keywords: ['key-'], regex: /key-[0-9a-f]{32}/g },
  { category: 'shopify-token', keywords: ['shpat_', 'shpss_', 'shpca_', 'shppa_'], regex: /shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}/g },
  { category: 'digitalocean-token', keywords: ['dop_v1_', 'doo_v1_', 'dor_v1_'], regex: /do[opr]_v1_[a-f0-9]{64}/g },
  { category: 'heroku-api-key', keywords: ['HRKU-'], regex: /HRKU-[A-Za-z0-9_-]{60}/g },
  {
    category: 'other-provider-token',
    keywords: ['glsa_', 'glc_', 'hvs.', 'hvb.', 'dapi', 'dckr_pat_', 'gsk_', 'lin_api_', 'NRAK-', 'AGE-SECRET-KEY-1', 'tskey-'],
    regex: /glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,2}|hv[sb]\.[A-Za-z0-9_-]{24,200}|dapi[a-f0-9]{32}(?:-\d)?|dckr_pat_[A-Za-z0-9_-]{27}|gsk_[A-Za-z0-9]{52}|lin_api_[A-Za-z0-9]{40}|NRAK-[A-Z0-9]{27}|AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}|tskey-[a-z]+-[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}/g,
    validate: mixed(2),
  },
];

/** Discord bot tokens have no literal prefix: base64 of a snowflake id, a timestamp and an HMAC. */
const DISCORD_BOT = /[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}/g;
/** The part after the id, rare in code: the bot-token regex only runs from its first occurrence on. */
const DISCORD_MIDDLE = /\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}/;

function patternDetector(p: TokenPattern): Detector {
  return {
    id: p.category,
    categories: [p.category],
    keywords: p.keywords,
    detect(ctx, emit) {
      const { text } = ctx;
      const re = p.regex;
      re.lastIndex = 0;
      for (let m = re.exec(text); m; m = re.exec(text)) {
        const value = m[0];
        const start = m.index;
        const end = start + value.length;
        if (p.boundary !== false && !tokenBoundary(text, start, end)) continue;
        if (p.validate && !p.validate(value)) continue;
        if (isDocumentedExample(value) || isStandInToken(value) || ctx.isAllowed(value)) continue;
        emit({ category: p.category, start, end, priority: PRIORITY.provider });
      }
    },
  };
}

export const providerTokenDetectors: Detector[] = [
  ...PATTERNS.map(patternDetector),
  {
    id: 'discord-bot-token',
    categories: ['discord-bot-token'],
    detect(ctx, emit) {
      const { text } = ctx;
      // Every match holds DISCORD_MIDDLE 24–28 characters after its start: no scan before the first one.
      const first = text.search(DISCORD_MIDDLE);
      if (first < 0) return;
      const re = DISCORD_BOT;
      re.lastIndex = Math.max(0, first - 28);
      for (let m = re.exec(text); m; m = re.exec(text)) {
        const start = m.index, end = start + m[0].length;
        if (!tokenBoundary(text, start, end, '.')) continue;
        if (charClasses(m[0]) < 3 || isDocumentedExample(m[0]) || ctx.isAllowed(m[0])) continue;
        emit({ category: 'discord-bot-token', start, end, priority: PRIORITY.provider });
      }
    },
  },
];
