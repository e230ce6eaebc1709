import * as assert from 'node:assert/strict';
import { BUILTIN_CATEGORIES, BUILTIN_DETECTORS, createRedactor } from '../../src/common/redaction';
import { isWordLikeIdentifier } from '../../src/common/redaction/valueChecks';
import { prng } from '../fixtures/redactionCorpus';

const redactor = createRedactor();

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
