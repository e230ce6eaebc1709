/**
 * Issue #15: values judged with their structure (key paths, neighbours, labels in prose) and the shared
 * harmless-value model. Each case is a shape, written from the formats' documentation, not a corpus string.
 */
import * as assert from 'node:assert/strict';
import { createRedactor, restore } from '../../src/common/redaction';
import { HARMLESS_RULES, harmlessReason } from '../../src/common/redaction/harmlessValues';

const redactor = createRedactor();
const found = (text: string, fileName?: string) => redactor.scan(text, { fileName }).map((f) => `${f.category}:${text.slice(f.start, f.end)}`);

function cases(list: Array<[string, string, string[]]>) {
  for (const [text, fileName, expected] of list) {
    it(`${expected.length ? 'finds ' + expected.join(', ') : 'keeps'} in ${JSON.stringify(text.slice(0, 90))} (${fileName})`, () => {
      assert.deepEqual(found(text, fileName), expected);
    });
  }
}

describe('redaction: structure-aware values (#15)', () => {
  describe('a value beside the name that names it', () => cases([
    ['env:\n  - name: DB_PASSWORD\n    value: "s3cr3tPa55"\n  - name: LOG_LEVEL\n    value: debug\n', 'deploy.yaml', ['password:s3cr3tPa55']],
    ['        - name: API_TOKEN\n          value: 9fK2mQ7xLp4RvT8w\n', 'k8s/app.yaml', ['generic-secret:9fK2mQ7xLp4RvT8w']],
    ['"environment": [{"name": "DB_PASSWORD", "value": "Zq8#rT2!wPm"}]', 'task-definition.json', ['password:Zq8#rT2!wPm']],
    ['- ParameterKey: AdminPassword\n  ParameterValue: Vx9!qLm2Rt\n', 'params.yaml', ['password:Vx9!qLm2Rt']],
    ['variable "db_password" {\n  type      = string\n  default   = "Tr0ub4dor&3"\n  sensitive = true\n}\n', 'main.tf', ['password:Tr0ub4dor&3']],
    ['variable "region" {\n  default = "eu-west-1"\n}\n', 'main.tf', []],
    ['        - name: DB_PASSWORD\n          valueFrom:\n            secretKeyRef:\n              name: db\n              key: password\n', 'deploy.yaml', []],
    ['  - name: API_TOKEN\n    value: "${API_TOKEN}"\n', 'deploy.yaml', []],
  ]));

  describe('a value in a child of a secret-like key', () => cases([
    ['admin_password:\n  description: the admin password\n  value: Kp7#wQ2zLm\n', 'values.yaml', ['password:Kp7#wQ2zLm']],
    ['api_token = {\n  default = "hR5tY8uI2oP4aS6d"\n}\n', 'vars.tf', ['generic-secret:hR5tY8uI2oP4aS6d']],
  ]));

  describe('prose and comments after a secret-like label', () => cases([
    ['## Staging database password\n\nUse the value `Gk7#pLm29Qx` for staging.\n', 'README.md', ['password:Gk7#pLm29Qx']],
    ['The staging admin password is\n\n    Rk4!vZ8qLw2m\n\n(rotate it)\n', 'CONTRIBUTING.md', ['password:Rk4!vZ8qLw2m']],
    ['The service token for CI:\n> tk.prd.Q8wErT5yUi9oP2aSdF4gH7jK\n', 'docs/ci.md', ['generic-secret:tk.prd.Q8wErT5yUi9oP2aSdF4gH7jK']],
    ['// staging awsSecretKey: 9aJk2LmQ7xPz4RtV8wYb3NcD5fGh6JkL1MnOpQrS\nconst x = 1;\n', 'a.ts', ['aws-secret-access-key:9aJk2LmQ7xPz4RtV8wYb3NcD5fGh6JkL1MnOpQrS']],
    ['Log in as the customer: jane.roe@mailbox.org / Wq7!zRt4pL\n', 'ticket.md', ['email:jane.roe@mailbox.org', 'password:Wq7!zRt4pL']],
    ['## API key\n\nSet `HEARTH_API_KEY` before running `npm start`.\n', 'README.md', []],
    ['## Tokens\n\nRun `./scripts/rotate-token.sh` and see `docs/tokens.md`.\n', 'README.md', []],
  ]));

  describe('a NAME=value pair inside a string, call arguments and setter directives', () => cases([
    ['cmd = "API_SECRET=Zx9Qw2Er7Ty4Ui" + " ./run"\n', 'a.py', ['generic-secret:Zx9Qw2Er7Ty4Ui']],
    ['expect(parse("DB_PASSWORD=Saff&Harb57~\\nX=1"))\n', 'a.test.ts', ['password:Saff&Harb57~']],
    ["define( 'DB_PASSWORD', 'NH8BmFt2uY&2' );\n", 'wp-config.php', ['password:NH8BmFt2uY&2']],
    ["define( 'DB_NAME', 'wordpress' );\n", 'wp-config.php', []],
    ["reasons.MissingToken('token', 'first specifier');\n", 'rule.js', []],
    ['payload = {"token": token_value, "password": pw}\n', 'a.py', []],
    ['/*\n * Pass config object without `basePath`, because `relativePath` is used.\n */\nfoo(node, token);\n', 'index.js', []],
    ['proxy_set_header X-Api-Key hltOklKYHD081b3bCKX5j8LPTBy9bu7;\n', 'nginx.conf', ['generic-secret:hltOklKYHD081b3bCKX5j8LPTBy9bu7']],
    ['aws configure set aws_secret_access_key VSZ0uap1WlEOLCwdQhITjVm8pwe61aO8zAu8SYU4\n', 'bootstrap.sh', ['aws-secret-access-key:VSZ0uap1WlEOLCwdQhITjVm8pwe61aO8zAu8SYU4']],
  ]));

  describe('values with punctuation are redacted whole', () => cases([
    ["SECRET_KEY = 'django-insecure-)(^%k2j#9x!l@p0q&w8e*r4t'\n", 'settings.py', ['generic-secret:django-insecure-)(^%k2j#9x!l@p0q&w8e*r4t']],
    ['SECRET_KEY=k2j)(^%#9x!l@p0q&w8e*r4t\n', '.env', ['generic-secret:k2j)(^%#9x!l@p0q&w8e*r4t']],
    ['    password: Jpetuyla,9287\n', 'values.yaml', ['password:Jpetuyla,9287']],
    ['      - POSTGRES_PASSWORD=Mwufhxsa(6799\n', 'docker-compose.yml', ['password:Mwufhxsa(6799']],
    ['DATABASE_URL=postgres://u:Abc#9@host/db\n', '.env', ['connection-string:Abc#9']],
    ['web-01.acme.internal ansible_user=deploy ansible_password=LgqICOp]neRuf23(8b\n', 'inventory/prod.ini', ['password:LgqICOp]neRuf23(8b']],
    ['spring.datasource.password==GuB4Prs#;x(fX9rD\n', 'application.properties', ['password:=GuB4Prs#;x(fX9rD']],
    ['spring.datasource.password=cVOxnM6.IZZVCA6\n', 'application.properties', ['password:cVOxnM6.IZZVCA6']],
    ['HEADERS = {"Authorization": f"Bearer {\'aw1UuO3ZAiRtZswfr4nLH79.1GY021V\'}"}\n', 'sync.py', ['auth-header:aw1UuO3ZAiRtZswfr4nLH79.1GY021V']],
    ['url = "postgres://admin:p@ss/w#rd@db.internal:5432/app"\n', 'a.py', ['connection-string:p@ss/w#rd']],
    ['dsn = "mysql://root:Pssw0rd1@tcp(db:3306)/shop"\n', 'a.go', ['connection-string:Pssw0rd1']],
  ]));

  describe('registry and tool credentials on command lines', () => cases([
    ['echo ZGVwbG95OmhKOGtMMm1ONHBR | base64 -d | docker login -u deploy --password-stdin registry.io\n', 'ci.sh', ['cli-password:ZGVwbG95OmhKOGtMMm1ONHBR']],
    ['docker login -u deploy -p hJ8kL2mN4pQ registry.io\n', 'ci.sh', ['cli-password:hJ8kL2mN4pQ']],
    ['docker login registry.io -u deploy -p -KV_-Gz5YObcxbW83\n', 'ci.yml', ['cli-password:-KV_-Gz5YObcxbW83']],
    ['mongosh -u admin -p Qw3rTy7uIo mongodb.internal\n', 'run.sh', ['cli-password:Qw3rTy7uIo']],
    ['keytool -genkey -keystore ks.jks -storepass Kx8!mQ2wZr\n', 'build.sh', ['cli-password:Kx8!mQ2wZr']],
    ['redis-server --appendonly yes --requirepass Blvxvcwfl;6214\n', 'compose.yaml', ['password:Blvxvcwfl;6214']],
    ['az login --service-principal -u 52b93fd7-09c4-40a7-8efe-8c3af434efd2 -p p268Q.EiSvDv2Ia6uXsiHX --tenant x\n', 'ops.sh', ['cli-password:p268Q.EiSvDv2Ia6uXsiHX']],
    ['echo "$REGISTRY_PASSWORD" | docker login -u ci --password-stdin\n', 'ci.sh', []],
    ['docker login -u deploy --password-stdin registry.io\n', 'ci.sh', []],
  ]));

  describe('docker config auth and other base64 user:password blobs', () => cases([
    ['{"auths": {"registry.io": {"auth": "ZGVwbG95OmhKOGtMMm1ONHBR"}}}', 'config.json', ['generic-secret:ZGVwbG95OmhKOGtMMm1ONHBR']],
  ]));

  describe('references, placeholders, fixtures and public ids stay', () => cases([
    ['DB_PASSWORD=${DB_PASSWORD:?missing}\nTOKEN=${{ secrets.X }}\nPASS={{ .Values.x }}\nSECRET=$(cat /run/secrets/x)\n', '.env', []],
    ['API_KEY=vault:secret/data/app#key\nKEY=arn:aws:ssm:us-east-1:123456789012:parameter/app/key\n', '.env', []],
    ['secret_id = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/api-kJ94qi"\n', 'main.tf', []],
    ['api_key = "aaaaaaaaaaaaaaaaaaaa"\ntoken = "1234567890abcdef1234567890abcdef"\nsecret = "abc...xyz"\npassword = "XXXX"\n', 'a.py', []],
    ['password = "<your-key>"\napi_key = "your_api_key_here"\npassword = "changeme"\nEMAIL_PASSWORD = os.environ.get("X", "dev-password-not-used")\n', 'a.py', []],
    ['STRIPE_PUBLISHABLE_KEY = "pk_live_51H8kLmN2pQrStUvWxYz0123"\n', 'a.js', []],
    ['const SENTRY_DSN = "https://a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6@o123456.ingest.sentry.io/789";\n', 'a.js', []],
    ['GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nSTRIPE_KEY=sk_live_XXXXXXXXXXXXXXXXXXXXXXXX\n', '.env', []],
    ['PASSWORD_HASHER=argon2id\nAUTH_TOKEN_COOKIE=__Host-session\n', '.env', []],
    ['test payments use 4242 4242 4242 4242.\n', 'docs/setup.md', []],
    ['Clone with `git@github.com:acme/app.git` to get the token helper.\n', 'README.md', []],
    ['kind: Secret\ndata:\n  API_TOKEN: ZGVwbG95OmhKOGtMMm1ONHBR\n  SUPPORT_EMAIL: c3VwcG9ydEBleGFtcGxlLmNvbQ==\n  LOG_LEVEL: ZGVidWc=\n', 'secret.yaml', ['k8s-secret:ZGVwbG95OmhKOGtMMm1ONHBR']],
  ]));

  describe('IP addresses that name a person', () => cases([
    ['77.175.7.18 - - [26/Mar/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 512\n', 'logs/access.log', ['ip-address:77.175.7.18']],
    ['2600:ce:dc32:8e73::8b - - [23/Mar/2024:23:00:00 +0000] "GET / HTTP/1.1" 200 5\n', 'logs/access.log', ['ip-address:2600:ce:dc32:8e73::8b']],
    ["INSERT INTO customers VALUES (1, 'Ann', '141.48.53.209');\n", 'db/dump.sql', ['ip-address:141.48.53.209']],
    ['2024-05-08T10:31:03Z WARN retry to 52.41.184.85\n', 'app.log', []],
    ['nameserver 8.8.8.8\nserver 203.0.113.7\n', 'logs/dns.log', []],
    ['upstream = "52.41.184.85"\n', 'config.toml', []],
    ['version 1.2.3.4\n', 'CHANGELOG.md', []],
  ]));

  it('keeps each redaction a stable numbered placeholder that restores', () => {
    const text = 'env:\n  - name: DB_PASSWORD\n    value: "s3cr3tPa55"\n  - name: DB_PASSWORD_COPY\n    value: "s3cr3tPa55"\n';
    const r = redactor.redact(text, { fileName: 'deploy.yaml' });
    assert.equal(r.findings.length, 2);
    assert.equal(r.findings[0]!.placeholder, r.findings[1]!.placeholder);
    assert.equal(restore(r.text, r.session), text);
  });
});

describe('redaction: the structure scanner stays linear (#15)', () => {
  // CPU time, not wall time: the shared test machine is often loaded. The bound is loose; a quadratic scan of these
  // blobs takes minutes.
  const blobs: Array<[string, string]> = [
    ['- name: DB_PASSWORD\n'.repeat(20_000), 'deploy.yaml'],
    ['variable "db_password" {\n'.repeat(20_000), 'main.tf'],
    ['password password '.repeat(20_000), 'README.md'],
    ['The password is\n\n'.repeat(20_000), 'README.md'],
    ['a@b.io '.repeat(40_000) + 'x://', 'a.txt'],
    [' / jane@corp.io'.repeat(20_000), 'ticket.md'],
    ['echo x | '.repeat(20_000) + 'docker login', 'ci.sh'],
    ['login '.repeat(40_000), 'a.js'],
    ['"API_SECRET='.repeat(20_000), 'a.py'],
    ['postgres://a:'.repeat(20_000), '.env'],
    ['// token: '.repeat(20_000), 'a.ts'],
  ];
  for (const [blob, fileName] of blobs) {
    it(`${JSON.stringify(blob.slice(0, 24))}… in ${fileName}`, () => {
      const c0 = process.cpuUsage();
      redactor.scan(blob, { fileName });
      const c = process.cpuUsage(c0);
      assert.ok((c.user + c.system) / 1000 < 1500, `took ${((c.user + c.system) / 1000).toFixed(0)} ms of CPU`);
    }).timeout(20_000);
  }
});

describe('redaction: the harmless-value model', () => {
  const examples: Record<string, [string[], string[]]> = {
    empty: [['', '***', '---'], ['a1']],
    'placeholder-word': [['changeme', 'XXXX', '<your-key>', '%API_KEY%', 'your_api_key', 'none'], ['adminPassword', 'Kx8!mQ2w']],
    'stand-in-marker': [['your_api_key_here', 'sk_test_xxxxxxxxxxxx', 'not-a-real-key', 'dev-password-not-used'], ['q8Wm2Zr5Lt']],
    elided: [['abc...xyz', 'sk-…', 'ghp_****'], ['a.b.c']],
    'repeated-or-sequential': [['aaaaaaaa', 'abcabcabcabc', '12345678', '1234567890abcdef1234567890abcdef', 'ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'], ['qwerty123', 'zaq12wsx', 'Tr0ub4dor&3']],
    reference: [['${DB_PASSWORD:?missing}', '${{ secrets.X }}', '{{ .Values.x }}', '$(cat /run/secrets/x)', 'vault:secret/data/x', 'arn:aws:ssm:us-east-1:1:parameter/x', 'op://vault/item/field', 'projects/p/secrets/s/versions/1'], ['Zx9Qw2Er7Ty4Ui']],
    'remote-or-url': [['git@github.com:acme/app.git', 'https://example.org/docs?x=1'], ['https://u:Kx8mQ2@host/db']],
    'test-card': [['4242 4242 4242 4242', '4111111111111111'], ['4242 4242 4242 4002']],
    'cookie-or-header-name': [['__Host-session', '__Secure-token'], ['_session']],
    'public-identifier': [['pk_live_51H8kLmN2pQr', '123-abc.apps.googleusercontent.com', 'ssh-ed25519 AAAAC3Nz'], ['sk_live_51H8kLmN2pQr']],
    hash: [['sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', 'sha512-Kq9Lm2Xv8Rt4Wn7Pz3Yb5Nc1Df6Gh0Jk', 'a1b2c3d'], ['Kq9Lm2Xv8Rt4Wn7P']],
    uuid: [['123e4567-e89b-42d3-a456-426614174000'], []],
    version: [['1.2.3', 'v2.0.0-rc.1', '2024-01-31', '20240131T120000Z'], ['1.2.3.4.5.6', 'v1x']],
    'minified-identifier': [['e.password', 't.token', 'a[b]'], ['dp.st.prd.Q8wErT5yUi9oP2aSdF4gH7jK']],
  };

  it('has examples for every rule', () => {
    assert.deepEqual(Object.keys(examples).sort(), HARMLESS_RULES.map((r) => r.name).sort());
  });
  for (const rule of HARMLESS_RULES) {
    it(`${rule.name}: ${rule.description.slice(0, 60)}…`, () => {
      const [spared, kept] = examples[rule.name]!;
      for (const v of spared) assert.ok(rule.test(v, {}) || (v === '' && harmlessReason(v) === 'empty'), `${rule.name} should spare ${JSON.stringify(v)}`);
      for (const v of kept) assert.ok(!rule.test(v, {}), `${rule.name} should not spare ${JSON.stringify(v)}`);
    });
  }
  it('spares a hex digest only under a hash-like name, and a UUID only without a secret-like name', () => {
    const sha = 'e83c5163316f89bfbde7d9ab23ca2e25604af290';
    assert.equal(harmlessReason(sha, { keyWords: ['commit', 'sha'] }), 'hash');
    assert.equal(harmlessReason(sha, { keyWords: ['api', 'key'] }), undefined);
    assert.equal(harmlessReason('123e4567-e89b-42d3-a456-426614174000', { keyWords: ['api', 'key'] }), undefined);
  });
});
