import * as assert from 'node:assert/strict';
import { BUILTIN_CATEGORIES, BUILTIN_DETECTORS, createRedactor } from '../../src/common/redaction';
import { isWordLikeIdentifier } from '../../src/common/redaction/valueChecks';
import { prng } from '../fixtures/redactionCorpus';

const redactor = createRedactor();

/** The redacted text, for checking that only the value became a placeholder. */
const redacted = (text: string, fileName?: string) => redactor.redact(text, { fileName }).text;
const found = (text: string, fileName?: string) => redactor.scan(text, { fileName }).map((f) => `${f.category}:${text.slice(f.start, f.end)}`);

function cases(list: Array<[string, string, string[]]>) {
  for (const [text, fileName, expected] of list) {
    it(`${expected.length ? 'finds ' + expected.join(', ') + ' in' : 'keeps'} ${JSON.stringify(text)} (${fileName})`, () => {
      assert.deepEqual(found(text, fileName), expected);
    });
  }
}

describe('redaction: identifiers under secret-like names', () => {
  describe('dotted and colon identifier paths are no secrets', () => cases([
    ["key: 'hearth.completion.enabled'", 'a.ts', []],
    ["  key: 'hearth.cost.energyPricePerKWh',", 'settings.ts', []],
    ["const tokenKey = 'auth.session.token';", 'a.ts', []],
    ['SECRET_NAME_KEY: "payments:secret-name"', 'a.ts', []],
    ['"tokenKey": "oauth.refresh.secret"', 'config.json', []],
    ['secretKey: "app:signing-key"', 'values.yaml', []],
    ['TOKEN_KEY = "vault:token-ref"', 'a.py', []],
    ['SESSION_TOKEN_KEY=payments:session-store', '.env', []],
    ["tokenStorageKey: 'sierra/prod/api-token'", 'a.js', []],
    ['const key = `hearth.otlp.lastSeq:${path}`;', 'a.ts', []],
  ]));

  describe('constants holding their own name or a header name are no secrets', () => cases([
    ['AUTHORIZATION: "authorization"', 'a.ts', []],
    ["TOKEN = 'token'", 'a.py', []],
    ['PASSWORD_FIELD = "password"', 'a.ts', []],
    ["AUTH_HEADER = 'x-api-key'", 'a.js', []],
    ["API_KEY: 'apiKey'", 'a.ts', []],
    ["export const SESSION_TOKEN = 'sessionToken';", 'a.ts', []],
    ["DB_PASSWORD = 'dbPassword'", 'a.py', []],
    ["ADMIN_PASSWORD: 'ADMIN_PASSWORD'", 'a.ts', []],
    ['CLIENT_SECRET=client-secret', '.env', []],
    ['"ACCESS_TOKEN": "access.token"', 'a.json', []],
    ['WEBHOOK_SECRET: "X-Hub-Signature"', 'a.yaml', []],
    ["AUTH = 'x-api-key'", 'a.ts', []],
  ]));

  describe('secrets under the same names are still found', () => cases([
    ['secret = "qwXzPoiRtyLkjhBv"', 'a.py', ['generic-secret:qwXzPoiRtyLkjhBv']],
    ['api_key = "kqzjvmwhxtrplbny"', 'a.py', ['generic-secret:kqzjvmwhxtrplbny']],
    ['SESSION_SECRET=correcthorsebatterystaple', '.env', ['generic-secret:correcthorsebatterystaple']],
    ["key = 'Z4kP9qLm2VxR8tWn'", 'a.py', ['generic-secret:Z4kP9qLm2VxR8tWn']],
    ['password = "sunshine"', 'a.py', ['password:sunshine']],
    ["DB_PASSWORD = 'adminPassword'", 'a.py', ['password:adminPassword']],
    ['AUTHORIZATION: "Bearer aB3dE5fG7hJ9kL1mN3pQ"', 'a.ts', ['auth-header:aB3dE5fG7hJ9kL1mN3pQ']],
  ]));

  it('tells identifiers from random letters', () => {
    for (const v of ['hearth.completion.enabled', 'auth.session.token', 'app:secret-name', 'x-api-key', 'apiKey', 'X-Hub-Signature', 'HTTPAuthorization', 'grpc.max_receive_message_length', 'hearth.completion.debounceMs']) {
      assert.equal(isWordLikeIdentifier(v), true, v);
    }
    for (const v of ['qwXzPoiRtyLkjhBv', 'kqzjvmwhxtrplbny', 'correcthorsebatterystaple', 'auth.s3ssion.token', 'hunter2', '']) {
      assert.equal(isWordLikeIdentifier(v), false, v);
    }
  });

  it('lets few random-letter strings pass as identifiers', () => {
    const rnd = prng(21);
    const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    let passed = 0;
    for (let t = 0; t < 2000; t++) {
      let s = '';
      for (let i = 0; i < 24; i++) s += letters[Math.floor(rnd() * letters.length)];
      if (isWordLikeIdentifier(s)) passed++;
    }
    assert.ok(passed <= 60, `${passed}/2000 random 24-letter strings read as identifiers`);
  });
});

describe('redaction: Canadian SIN', () => {
  cases([
    ['SIN 130 692 544', 'a.txt', ['ca-sin:130 692 544']],
    ['employee 130-692-544 hired', 'a.md', ['ca-sin:130-692-544']],
    ['sin: 130692544', 'a.yaml', ['ca-sin:130692544']],
    ['{"sin": "271828188"}', 'a.json', ['ca-sin:271828188']],
    ["customer_sin = '130692544'", 'a.py', ['ca-sin:130692544']],
    ['Social insurance number: 314159260', 'a.txt', ['ca-sin:314159260']],
    ['NAS 130692544', 'a.txt', ['ca-sin:130692544']],
    ['SIN 130-692-545', 'a.txt', []], // Luhn fails
    ['SIN 800 000 002', 'a.txt', []], // Luhn-valid, but 8 marks a business number
    ['SIN 046 454 286', 'a.txt', []], // Luhn-valid, but 0 is unassigned
    ['SIN 130-692 544', 'a.txt', []], // mixed separators
    ['order 130692544', 'a.txt', []], // nine bare digits without a label
    ['Math.sin(130692544)', 'a.js', []],
    ['USING 130692544', 'a.txt', []],
    ['dims 100 130 692 544 300', 'a.txt', []], // one group of a longer list
    ['ref 130-692-544-1', 'a.txt', []],
  ]);

  it('replaces the number only', () => {
    assert.equal(redacted('SIN: 130 692 544.'), 'SIN: [REDACTED:ca-sin#1].');
  });
});

describe('redaction: Spanish DNI / NIE', () => {
  cases([
    ['DNI 12345678Z', 'a.txt', ['es-dni:12345678Z']],
    ['dni: 12345678-Z', 'a.yaml', ['es-dni:12345678-Z']],
    ['"dni": "12345678 Z"', 'a.json', ['es-dni:12345678 Z']],
    ['NIE X1234567L', 'a.txt', ['es-dni:X1234567L']],
    ['nie Y1234567X, Z1234567R', 'a.txt', ['es-dni:Y1234567X', 'es-dni:Z1234567R']],
    ['NIE X1234567-L', 'a.txt', ['es-dni:X1234567-L']],
    ['DNI 12345678A', 'a.txt', []], // wrong control letter
    ['NIE X1234567A', 'a.txt', []], // wrong control letter
    ['NIE 1234567L', 'a.txt', []], // seven digits need the X/Y/Z prefix
    ['id a12345678Z and 12345678Zb', 'a.txt', []], // not a word of its own
    ['v 9.12345678Z and 123456789Z', 'a.txt', []], // part of a longer number
  ]);
});

describe('redaction: .netrc credentials', () => {
  cases([
    ['machine api.heroku.com login me password h3rokuPw', 'notes.md', ['netrc-password:h3rokuPw']],
    ['cat > ~/.netrc <<EOF\nmachine github.com\n  login bot\n  password ghPw123x\nEOF\n', 'setup.sh', ['netrc-password:ghPw123x']],
    ['default login anonymous password guest2024', 'a.txt', ['netrc-password:guest2024']],
    ['machine a login u password p1 machine b login v password "p 2"\ndefault password p3\nmacdef init\nfoo password x\n\nmachine c password p4\n', 'home/.netrc', ['netrc-password:p1', 'netrc-password:p 2', 'netrc-password:p3', 'netrc-password:p4']],
    ['machine files.acme.io\nlogin deploy\npassword s3cretFtp\n', 'C:\\Users\\me\\_netrc', ['netrc-password:s3cretFtp']],
    ['machine learning login page password reset', 'a.md', []], // prose: no host
    ['machine api.acme.io login bot password $NETRC_TOKEN', 'a.sh', []],
    ['machine api.acme.io password h3rokuPw', 'a.md', []], // outside a .netrc an entry needs its login
    ['the default password is hunter2', 'a.md', []],
    ['default password is hunter2', 'a.md', []], // no login: prose, not an entry
  ]);

  it('replaces the password only, never the host or the login', () => {
    assert.equal(redacted('machine api.heroku.com login me password h3rokuPw\n', 'notes.md'), 'machine api.heroku.com login me password [REDACTED:netrc-password#1]\n');
  });
});

describe('redaction: passwords on command lines', () => {
  cases([
    ['mysql -u root -pS3cretPw db', 'run.sh', ['cli-password:S3cretPw']],
    ["mysqldump -uroot -p'my pw' shop > dump.sql", 'backup.sh', ['cli-password:my pw']],
    ['os.system("mysql -uroot -pS3cret9"); log("x")', 'a.py', ['cli-password:S3cret9']],
    ["exec('mariadb -u app -pHunter22 --batch')", 'a.js', ['cli-password:Hunter22']],
    ["sshpass -p 'Secr3tPw' ssh -p 2222 deploy@bastion", 'a.sh', ['cli-password:Secr3tPw']],
    ['sshpass -pTopSecret1 scp a b:', 'a.sh', ['cli-password:TopSecret1']],
    ['redis-cli -h cache -p 6380 -a R3disPw ping', 'a.sh', ['cli-password:R3disPw']],
    ['curl -u deploy:S3cretTok https://ci.acme.io', 'a.sh', ['cli-password:S3cretTok']],
    ["curl --user 'bob:pa ss9' https://x.io", 'a.sh', ['cli-password:pa ss9']],
    ['curl --user=ci:tok3nValue https://x.io', 'a.sh', ['cli-password:tok3nValue']],
    ['RUN curl -sS -u admin:Adm1nPw \\\n  https://x.io/api', 'Dockerfile', ['cli-password:Adm1nPw']],
    ["sshpass -p 'Secr3tPw' ssh db1 mysql -uroot -pDbPw99 shop", 'a.sh', ['cli-password:Secr3tPw', 'cli-password:DbPw99']],
    ['zcat dump.gz | mysql -uroot -pDbPw99 shop && curl -u ci:T0kenValue https://x.io', 'a.sh', ['cli-password:DbPw99', 'cli-password:T0kenValue']],
    ['mysql -u root -p shop', 'a.sh', []], // prompts; `shop` is the database
    ['mysql -h db -P 3306 -u root -p', 'a.sh', []],
    ['mysql -u root -p"$MYSQL_PWD" shop', 'a.sh', []],
    ['sshpass -f pw.txt ssh -p 22 host', 'a.sh', []], // ssh's port, not sshpass's password
    ['redis-cli -a "$REDIS_PASSWORD" ping', 'a.sh', []],
    ['curl -u bob https://x.io', 'a.sh', []], // prompts
    ['curl -u "$CI_USER:$CI_TOKEN" https://x.io', 'a.sh', []],
    ['curl -u username:password https://x.io', 'README.md', []],
    ['libcurl -u a:b1; mysqlx -pX', 'a.sh', []],
    ['run `mysql -u root -p` and type it; the `-p…` form puts it on the command line', 'a.md', []],
  ]);

  it('replaces the password only, never the flag, the user or the host', () => {
    assert.equal(redacted('mysql -u root -pS3cretPw db'), 'mysql -u root -p[REDACTED:cli-password#1] db');
    assert.equal(redacted('curl -u deploy:S3cretTok https://ci.acme.io'), 'curl -u deploy:[REDACTED:cli-password#1] https://ci.acme.io');
    assert.equal(redacted("sshpass -p 'Secr3tPw' ssh deploy@bastion"), "sshpass -p '[REDACTED:cli-password#1]' ssh deploy@bastion");
  });

  it('leaves --password value to the assignment detector', () => {
    assert.deepEqual(found('mysql --password=hunter2 shop', 'run.sh'), ['password:hunter2']);
  });
});

describe('redaction: multi-line YAML values under secret names', () => {
  cases([
    ['app:\n  password: |\n    line-one-Secret1\n    line-two\n  user: bob\n', 'a.yaml', ['yaml-block-secret:line-one-Secret1\n    line-two']],
    ['  - client_secret: >-\n      abcDEF123456\n      ghi\n\nnext: 1\n', 'a.yaml', ['yaml-block-secret:abcDEF123456\n      ghi']],
    ['private_key: |2\n  MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n', 'a.yaml', ['yaml-block-secret:MIIEvQIBADANBgkqhkiG9w0BAQEFAASC']],
    ['token: | # from the vault\r\n  s3cretTok\r\nnext: 1\r\n', 'a.yaml', ['yaml-block-secret:s3cretTok']],
    ['password: |\n  ${DB_PASSWORD}\n', 'a.yaml', []],
    ['description: |\n  Rotated every 30 days.\n  Ask the ops team.\n', 'a.yaml', []],
    ['password: |\nnext: 1\n', 'a.yaml', []], // an empty block
  ]);

  it('replaces the content lines and keeps the indicator', () => {
    assert.equal(redacted('password: |\n  hunter2\n  more\nuser: bob\n', 'a.yaml'), 'password: |\n  [REDACTED:yaml-block-secret#1]\nuser: bob\n');
  });
});

describe('redaction: categories', () => {
  it('describes every category a built-in detector emits', () => {
    for (const d of BUILTIN_DETECTORS) {
      for (const c of d.categories) {
        const info = (BUILTIN_CATEGORIES as Record<string, { description: string }>)[c];
        assert.ok(info && info.description.length > 0, `${d.id}: ${c}`);
      }
    }
  });
});
