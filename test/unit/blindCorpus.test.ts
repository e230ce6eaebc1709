import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  TEMPLATE_NAMES, dniValid, generateBlindCorpus, ibanValid, luhnValid, ninoValid, type BlindCorpus,
} from '../fixtures/blindCorpus/generateBlindCorpus';

// Tests of the blind corpus GENERATOR only: the redactor is scored against it elsewhere. These make sure a
// score means something: spans are exact, the corpus is the same for a seed, and the personal data carries the
// check digits a checksum-aware detector would demand (otherwise a correct "invalid IBAN" verdict would count as a miss).

const corpora = new Map<number, BlindCorpus>();
const corpus = (seed: number): BlindCorpus => {
  if (!corpora.has(seed)) corpora.set(seed, generateBlindCorpus(seed));
  return corpora.get(seed)!;
};
const SEEDS = [1, 7, 20261204];
const allPlanted = (c: BlindCorpus) => c.files.flatMap((f) => f.planted);
const allNegatives = (c: BlindCorpus) => c.files.flatMap((f) => f.negatives);

/** National check digits inside the BBAN, written independently of the generator: BE mod 97, FR RIB key, ES mod 11. */
function nationalCheckValid(iban: string): boolean {
  const bban = iban.slice(4);
  switch (iban.slice(0, 2)) {
    case 'BE': {
      const m = Number(BigInt(bban.slice(0, 10)) % 97n);
      return Number(bban.slice(10)) === (m === 0 ? 97 : m);
    }
    case 'FR':
      return (89n * BigInt(bban.slice(0, 5)) + 15n * BigInt(bban.slice(5, 10)) + 3n * BigInt(bban.slice(10, 21)) + BigInt(bban.slice(21))) % 97n === 0n;
    case 'ES': {
      const w = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6];
      const dc = (ten: string) => { const v = 11 - ([...ten].reduce((s, c, i) => s + Number(c) * w[i], 0) % 11); return v === 11 ? 0 : v === 10 ? 1 : v; };
      return Number(bban[8]) === dc('00' + bban.slice(0, 8)) && Number(bban[9]) === dc(bban.slice(10));
    }
    default:
      return true; // DE, GB, NL, IT: account-level schemes vary by bank; only the ISO 13616 check applies
  }
}

describe('blind redaction corpus generator', function () {
  this.timeout(30_000);

  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateBlindCorpus(99, { files: 120 });
    const b = generateBlindCorpus(99, { files: 120 });
    assert.deepEqual(a, b);
    const c = generateBlindCorpus(100, { files: 120 });
    assert.notDeepEqual(a.files.map((f) => f.content), c.files.map((f) => f.content));
  });

  it('makes about 400 files by default with unique paths, and honours opts.files', () => {
    for (const seed of SEEDS) {
      const c = corpus(seed);
      assert.equal(c.files.length, 400);
      assert.equal(new Set(c.files.map((f) => f.path)).size, c.files.length);
    }
    assert.equal(generateBlindCorpus(3, { files: 25 }).files.length, 25);
  });

  it('covers every template even in a small corpus', () => {
    const c = generateBlindCorpus(5, { files: TEMPLATE_NAMES.length });
    assert.ok(c.files.every((f) => f.content.length > 0));
    assert.ok(TEMPLATE_NAMES.length >= 30, `only ${TEMPLATE_NAMES.length} file shapes`);
  });

  it('records exact spans for every planted value and negative', () => {
    for (const seed of SEEDS) {
      for (const f of corpus(seed).files) {
        for (const p of f.planted) {
          assert.equal(f.content.slice(p.start, p.end), p.value, `${f.path} planted ${p.category}`);
          assert.ok(p.end > p.start);
        }
        for (const n of f.negatives) assert.equal(f.content.slice(n.start, n.end), n.value, `${f.path} negative ${n.kind}`);
      }
    }
  });

  it('never overlaps two spans in a file (planted with negative, or either with itself)', () => {
    for (const seed of SEEDS) {
      for (const f of corpus(seed).files) {
        const spans = [...f.planted, ...f.negatives].map((s) => [s.start, s.end] as const).sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], `${f.path}: overlap at ${spans[i][0]}`);
      }
    }
  });

  it('plants about 1,500 values across at least 40 kebab-case categories, with about as many negatives', () => {
    for (const seed of SEEDS) {
      const c = corpus(seed);
      const planted = allPlanted(c);
      const negatives = allNegatives(c);
      const cats = new Set(planted.map((p) => p.category));
      assert.ok(cats.size >= 40, `seed ${seed}: ${cats.size} categories`);
      assert.ok(planted.length >= 1200 && planted.length <= 2000, `seed ${seed}: ${planted.length} planted`);
      assert.ok(negatives.length >= 1200 && negatives.length <= 2000, `seed ${seed}: ${negatives.length} negatives`);
      for (const k of [...cats, ...new Set(negatives.map((n) => n.kind))]) assert.match(k, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      // Enough of each category that a per-category recall is more than an anecdote.
      for (const k of cats) assert.ok(planted.filter((p) => p.category === k).length >= 4, `seed ${seed}: too few ${k}`);
    }
  });

  it('includes the hard shapes the brief names', () => {
    const c = corpus(1);
    const has = (re: RegExp) => c.files.some((f) => f.planted.some((p) => re.test(f.content.slice(Math.max(0, p.start - 200), p.start))));
    assert.ok(has(/- name: [A-Z_]+\n\s+value: "?$/), 'k8s env name and value on separate lines');
    assert.ok(has(/variable "[a-z_]+" \{\n[^}]*default\s+= "$/), 'terraform variable default');
    assert.ok(has(/"auth": "$/), 'docker config auth');
    assert.ok(has(/docker login [^\n]*-p $/), 'docker login -p');
    assert.ok(has(/\|\n(\s+[^\n]*\n)*\s+spring\.datasource\.password=$/), 'value inside a YAML block scalar');
    assert.ok(has(/postgres(ql)?:\/\/[a-z_]*:$/), 'URL with credentials');
    assert.ok(has(/"API_SECRET=$/), 'secret inside a string literal');
    assert.ok(allPlanted(c).some((p) => p.category === 'django-secret-key' && /[)(^%]/.test(p.value)), 'Django key with punctuation');
    assert.ok(allPlanted(c).some((p) => p.category === 'connection-string-password' && p.value.includes('#')), 'URL password with #');
  });

  it('writes JSON files that parse, so a structure-aware redactor sees real JSON', () => {
    for (const seed of SEEDS) {
      for (const f of corpus(seed).files.filter((x) => /\.(json|ipynb)$/.test(x.path))) {
        assert.doesNotThrow(() => JSON.parse(f.content), `${f.path} is not valid JSON`);
      }
    }
  });

  it('gives personal identifiers valid check digits', () => {
    for (const seed of SEEDS) {
      for (const p of allPlanted(corpus(seed))) {
        const digits = p.value.replace(/[ -]/g, '');
        switch (p.category) {
          case 'credit-card-number':
            assert.match(digits, /^\d{15,16}$/);
            assert.ok(luhnValid(digits), `card ${p.value}`);
            break;
          case 'ca-sin':
            assert.match(digits, /^[1-79]\d{8}$/);
            assert.ok(luhnValid(digits), `SIN ${p.value}`);
            break;
          case 'iban':
            assert.ok(ibanValid(p.value), `IBAN ${p.value}`);
            assert.ok(nationalCheckValid(p.value.replace(/ /g, '')), `IBAN national check ${p.value}`);
            break;
          case 'es-dni':
            assert.match(p.value, /^\d{8}[A-Z]$/);
            assert.ok(dniValid(p.value), `DNI ${p.value}`);
            break;
          case 'es-nie':
            assert.match(p.value, /^[XYZ]\d{7}[A-Z]$/);
            assert.ok(dniValid(p.value), `NIE ${p.value}`);
            break;
          case 'uk-nino':
            assert.ok(ninoValid(p.value), `NINO ${p.value}`);
            break;
          case 'us-ssn': {
            const m = /^(\d{3})-(\d{2})-(\d{4})$/.exec(p.value);
            assert.ok(m, `SSN ${p.value}`);
            const area = Number(m[1]);
            assert.ok(area > 0 && area !== 666 && area < 900 && m[2] !== '00' && m[3] !== '0000', `SSN ${p.value}`);
            break;
          }
        }
      }
    }
  });

  it('check-digit helpers reject what they should', () => {
    assert.ok(luhnValid('4539578763621486'));
    assert.ok(!luhnValid('4539578763621487'));
    assert.ok(ibanValid('GB82 WEST 1234 5698 7654 32'));
    assert.ok(!ibanValid('GB82 WEST 1234 5698 7654 33'));
    assert.ok(dniValid('12345678Z'));
    assert.ok(!dniValid('12345678A'));
    assert.ok(dniValid('X1234567L'));
    assert.ok(ninoValid('AB 12 34 56 C'));
    assert.ok(!ninoValid('GB123456A') && !ninoValid('DA123456A'));
  });

  it('encodes what the encoded categories claim', () => {
    for (const p of allPlanted(corpus(1))) {
      if (p.category === 'docker-registry-auth' || p.category === 'basic-auth-credentials') {
        assert.match(Buffer.from(p.value, 'base64').toString('utf8'), /^[^:]+:.+$/, `${p.category} decodes to user:password`);
      } else if (p.category === 'kubernetes-secret-data') {
        assert.equal(Buffer.from(Buffer.from(p.value, 'base64').toString('utf8')).toString('base64'), p.value);
      } else if (p.category === 'jwt') {
        const [h, b] = p.value.split('.');
        assert.equal(JSON.parse(Buffer.from(h, 'base64url').toString('utf8')).typ, 'JWT');
        assert.ok(typeof JSON.parse(Buffer.from(b, 'base64url').toString('utf8')).exp === 'number');
      } else if (p.category === 'aws-access-key-id') {
        assert.match(p.value, /^(AKIA|ASIA)[A-Z2-7]{16}$/);
      } else if (p.category === 'private-key' || p.category === 'ssh-private-key') {
        assert.match(p.value, /^-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+-----END [A-Z ]*PRIVATE KEY-----$/);
      }
    }
  });

  it('keeps negatives free of planted values and documented examples out of the planted set', () => {
    const c = corpus(1);
    const plantedValues = new Set(allPlanted(c).map((p) => p.value));
    for (const n of allNegatives(c)) assert.ok(!plantedValues.has(n.value), `negative ${n.kind} ${n.value} is also planted`);
    for (const p of allPlanted(c)) {
      assert.ok(!/EXAMPLE|^4242 ?4242|^4111 ?1111 ?1111 ?1111$/.test(p.value), `documented example planted: ${p.value}`);
    }
  });

  it('documents every category and negative kind it produces in README.md', () => {
    // Tests compile to out/test/unit; the README stays in the source tree.
    const readme = readFileSync(join(__dirname, '../../../test/fixtures/blindCorpus/README.md'), 'utf8');
    const labels = new Set(SEEDS.flatMap((s) => [...allPlanted(corpus(s)).map((p) => p.category), ...allNegatives(corpus(s)).map((n) => n.kind)]));
    for (const l of labels) assert.ok(readme.includes(`\`${l}\``), `README.md does not list \`${l}\``);
  });
});
