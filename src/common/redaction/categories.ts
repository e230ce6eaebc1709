/**
 * The categories a redaction finding can name. A category is a stable, lower-case slug: it appears in placeholders
 * (`[REDACTED:github-pat#1]`), in ledger counts and in policy files, so never rename one.
 */
export type CategoryKind = 'secret' | 'pii';

export interface CategoryInfo {
  kind: CategoryKind;
  description: string;
}

export const BUILTIN_CATEGORIES = {
  'aws-access-key-id': { kind: 'secret', description: 'AWS access key id (AKIA…/ASIA…)' },
  'aws-secret-access-key': { kind: 'secret', description: 'AWS secret access key beside its key id or under an AWS secret name' },
  'gcp-api-key': { kind: 'secret', description: 'Google Cloud / Firebase API key (AIza…)' },
  'gcp-service-account-key': { kind: 'secret', description: 'private key inside a Google service-account JSON file' },
  'google-oauth-client-secret': { kind: 'secret', description: 'Google OAuth client secret (GOCSPX-…)' },
  'azure-storage-key': { kind: 'secret', description: 'Azure storage AccountKey / SharedAccessKey in a connection string' },
  'azure-sas-token': { kind: 'secret', description: 'signature of an Azure shared access signature URL' },
  'github-pat': { kind: 'secret', description: 'GitHub personal access token, classic (ghp_…)' },
  'github-fine-grained-pat': { kind: 'secret', description: 'GitHub fine-grained personal access token (github_pat_…)' },
  'github-oauth-token': { kind: 'secret', description: 'GitHub OAuth access token (gho_…)' },
  'github-app-token': { kind: 'secret', description: 'GitHub App user/installation/refresh token (ghu_/ghs_/ghr_…)' },
  'gitlab-token': { kind: 'secret', description: 'GitLab personal, deploy, runner or pipeline token (glpat-…)' },
  'slack-bot-token': { kind: 'secret', description: 'Slack bot token (xoxb-…)' },
  'slack-user-token': { kind: 'secret', description: 'Slack user / legacy token (xoxp-, xoxa-, xoxs-…), app token (xapp-…)' },
  'slack-webhook': { kind: 'secret', description: 'Slack incoming webhook URL' },
  'stripe-secret-key': { kind: 'secret', description: 'Stripe secret key (sk_live_/sk_test_…)' },
  'stripe-restricted-key': { kind: 'secret', description: 'Stripe restricted key (rk_live_/rk_test_…)' },
  'stripe-webhook-secret': { kind: 'secret', description: 'Stripe webhook signing secret (whsec_…)' },
  'twilio-api-key': { kind: 'secret', description: 'Twilio API key sid (SK + 32 hex)' },
  'sendgrid-api-key': { kind: 'secret', description: 'SendGrid API key (SG.….…)' },
  'openai-api-key': { kind: 'secret', description: 'OpenAI API key (sk-…, sk-proj-…, sk-svcacct-…)' },
  'anthropic-api-key': { kind: 'secret', description: 'Anthropic API key (sk-ant-…)' },
  'huggingface-token': { kind: 'secret', description: 'Hugging Face access token (hf_…)' },
  'npm-token': { kind: 'secret', description: 'npm access token (npm_…)' },
  'pypi-token': { kind: 'secret', description: 'PyPI upload token (pypi-AgEI…)' },
  'discord-bot-token': { kind: 'secret', description: 'Discord bot token' },
  'discord-webhook': { kind: 'secret', description: 'Discord webhook URL' },
  'telegram-bot-token': { kind: 'secret', description: 'Telegram bot token (123456789:AA…)' },
  'mailgun-api-key': { kind: 'secret', description: 'Mailgun API key (key-…)' },
  'shopify-token': { kind: 'secret', description: 'Shopify access / shared-secret token (shpat_, shpss_, shpca_, shppa_)' },
  'digitalocean-token': { kind: 'secret', description: 'DigitalOcean token (dop_v1_, doo_v1_, dor_v1_)' },
  'heroku-api-key': { kind: 'secret', description: 'Heroku API key (HRKU-… or a UUID under a Heroku key name)' },
  'other-provider-token': { kind: 'secret', description: 'other provider token formats: Grafana, Vault, Databricks, Docker Hub, Groq, Linear, New Relic, age, Tailscale' },
  'private-key': { kind: 'secret', description: 'PEM / OpenSSH / PGP private key block' },
  'connection-string': { kind: 'secret', description: 'password inside a database / broker connection string (URL, JDBC, ADO.NET)' },
  'url-credentials': { kind: 'secret', description: 'password in a URL (scheme://user:pass@host)' },
  jwt: { kind: 'secret', description: 'JSON Web Token' },
  'auth-header': { kind: 'secret', description: 'credentials after an Authorization: Bearer/Basic/Token header' },
  password: { kind: 'secret', description: 'a literal assigned to a password-like name' },
  'generic-secret': { kind: 'secret', description: 'a literal assigned to a secret/token/key-like name, judged by context and entropy' },
  'k8s-secret': { kind: 'secret', description: 'value under data:/stringData: of a Kubernetes Secret' },
  'yaml-block-secret': { kind: 'secret', description: 'multi-line YAML block (`|` or `>`) under a password- or secret-like key' },
  'netrc-password': { kind: 'secret', description: 'password of a .netrc entry (machine … login … password …)' },
  'cli-password': { kind: 'secret', description: 'password on a command line: mysql -p…, sshpass -p, redis-cli -a, curl -u user:…' },
  email: { kind: 'pii', description: 'email address' },
  'phone-number': { kind: 'pii', description: 'phone number (E.164 or common national formats)' },
  'credit-card': { kind: 'pii', description: 'payment card number (Luhn-valid, known issuer prefix)' },
  'us-ssn': { kind: 'pii', description: 'US social security number (valid area/group/serial)' },
  'uk-nino': { kind: 'pii', description: 'UK national insurance number' },
  'ca-sin': { kind: 'pii', description: 'Canadian social insurance number (Luhn-valid; nine bare digits only after a SIN label)' },
  'es-dni': { kind: 'pii', description: 'Spanish DNI or NIE with a valid control letter' },
  iban: { kind: 'pii', description: 'IBAN with a valid mod-97 checksum' },
  'internal-ip': { kind: 'pii', description: 'private IP address (10/8, 172.16/12, 192.168/16, fc00::/7)' },
  'ip-address': { kind: 'pii', description: 'public IP address where it names a person: logs, data exports and dumps, or after an address-like name (client_ip, remote_addr)' },
} as const satisfies Record<string, CategoryInfo>;

export type BuiltinCategory = keyof typeof BUILTIN_CATEGORIES;

/** Names a policy may use in `disabledCategories` to switch off a whole kind at once. */
export const CATEGORY_GROUPS: Record<string, CategoryKind> = { secrets: 'secret', pii: 'pii' };

/** Turns a user-supplied name into a category slug that is safe inside a placeholder. */
export function categorySlug(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return slug || 'custom';
}
