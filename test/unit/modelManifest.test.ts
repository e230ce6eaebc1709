import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import {
  findModel,
  KNOWN_FIM_TOKENS,
  ManifestError,
  parseManifest,
  parseManifestText,
  type ModelManifest,
} from '../../src/common/models/modelManifest';

// Bundled to out/test/unit/, so the repository root is three levels up.
const MANIFEST_PATH = path.resolve(__dirname, '../../../models-manifest/models.json');
const SOURCE = 'models-manifest/models.json';
const ROOT = path.resolve(__dirname, '../../..');
/** The model the project trains and ships (models/train). */
const SHIPPED_MODEL = 'models/hearth-code-tiny.gguf';

function shippedJson(): { version: number; models: Record<string, unknown>[] } {
  return JSON.parse(readFileSync(MANIFEST_PATH, 'utf8'));
}

/** Parses a copy of the shipped manifest after `edit`, returning the error message (or failing if it parsed). */
function brokenMessage(edit: (json: ReturnType<typeof shippedJson>) => void): string {
  const json = shippedJson();
  edit(json);
  try {
    parseManifest(json, 'broken.json');
  } catch (err) {
    assert.ok(err instanceof ManifestError, `expected a ManifestError, got ${String(err)}`);
    assert.match(err.message, /^broken\.json is not a valid model manifest/);
    return err.message;
  }
  assert.fail('the broken manifest parsed');
}

function indexOf(json: ReturnType<typeof shippedJson>, id: string): number {
  const i = json.models.findIndex((m) => m.id === id);
  assert.ok(i >= 0, `${id} is in the shipped manifest`);
  return i;
}

describe('model manifest', () => {
  let manifest: ModelManifest;

  before(() => {
    manifest = parseManifestText(readFileSync(MANIFEST_PATH, 'utf8'), SOURCE);
  });

  describe('the shipped models-manifest/models.json', () => {
    it('parses', () => {
      assert.equal(manifest.version, 1);
      assert.ok(manifest.models.length >= 6);
    });

    it('offers DeepSeek-Coder-V2-Lite Base and Instruct at Q4_K_M', () => {
      const base = manifest.models.find((m) => m.family === 'deepseek-coder-v2' && /Lite-Base/.test(m.url));
      const instruct = manifest.models.find((m) => m.family === 'deepseek-coder-v2' && /Lite-Instruct/.test(m.url));
      assert.ok(base, 'base entry');
      assert.ok(instruct, 'instruct entry');
      for (const m of [base, instruct]) {
        assert.equal(m.quantization, 'Q4_K_M');
        assert.equal(m.fim.format, 'deepseek');
        assert.deepEqual(m.parameters, { total: 15.7e9, active: 2.4e9 });
      }
      assert.ok(base.purpose !== 'chat', 'the base model serves completion');
      assert.ok(instruct.purpose !== 'completion', 'the instruct model serves chat');
    });

    it('offers Qwen2.5-Coder 1.5B and 7B base models for completion', () => {
      for (const size of ['1.5B', '7B']) {
        const m = manifest.models.find(
          (e) => e.family === 'qwen2.5-coder' && e.url.includes(`Qwen2.5-Coder-${size}-`) && e.purpose !== 'chat',
        );
        assert.ok(m, `Qwen2.5-Coder ${size} base entry`);
        assert.equal(m.format, 'gguf');
        assert.deepEqual(
          { prefix: m.fim.prefix, suffix: m.fim.suffix, middle: m.fim.middle },
          { prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>' },
        );
      }
    });

    it('uses the fullwidth-bar DeepSeek FIM tokens, not ASCII look-alikes', () => {
      const m = findModel(manifest, 'deepseek-coder-v2-lite-base-q4km');
      assert.ok(m);
      assert.equal(m.fim.prefix, '<\uFF5Cfim\u2581begin\uFF5C>');
      assert.equal(m.fim.suffix, '<\uFF5Cfim\u2581hole\uFF5C>');
      assert.equal(m.fim.middle, '<\uFF5Cfim\u2581end\uFF5C>');
      assert.deepEqual(KNOWN_FIM_TOKENS.deepseek, { prefix: m.fim.prefix, suffix: m.fim.suffix, middle: m.fim.middle });
    });

    it('downloads every real model over https from a Hugging Face resolve URL', () => {
      const hf = /^https:\/\/huggingface\.co\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/resolve\/(?:main|[0-9a-f]{40})\/[A-Za-z0-9_.-]+\.gguf$/;
      for (const m of manifest.models) {
        if (m.tier === 'demo') assert.match(m.url, /^hearth:/, m.id);
        else assert.match(m.url, hf, m.id);
      }
    });

    it('lists the shipped trained model as the demo tier, with its committed size and sha256', () => {
      const demo = findModel(manifest, 'hearth-code-tiny');
      assert.ok(demo);
      assert.equal(demo.tier, 'demo');
      assert.equal(demo.url, `hearth:${SHIPPED_MODEL}`);
      const file = path.join(ROOT, SHIPPED_MODEL);
      assert.equal(demo.sizeBytes, statSync(file).size);
      assert.equal(demo.sha256, readFileSync(`${file}.sha256`, 'utf8').split(/\s+/)[0]);
      assert.equal(demo.sha256, createHash('sha256').update(readFileSync(file)).digest('hex'));
    });

    it('gives a note for every entry without a sha256 or with an approximate size', () => {
      for (const m of manifest.models) {
        if (m.sha256 === null || m.sizeApproximate) assert.ok(m.notes, m.id);
        if (m.sizeApproximate) assert.match(m.notes ?? '', /approximate size/i, m.id);
      }
    });

    it('asks for at least the file size in RAM', () => {
      for (const m of manifest.models) if (m.sizeBytes !== null) assert.ok(m.minRamBytes > m.sizeBytes, m.id);
    });
  });

  describe('findModel', () => {
    it('finds by id and returns undefined for an unknown id', () => {
      assert.equal(findModel(manifest, 'qwen2.5-coder-7b-q8')?.quantization, 'Q8_0');
      assert.equal(findModel(manifest, 'no-such-model'), undefined);
    });
  });

  describe('a broken manifest', () => {
    it('rejects a duplicate id, naming both entries', () => {
      const msg = brokenMessage((j) => {
        j.models.push({ ...j.models[1], url: `${String(j.models[1].url)}?copy` });
      });
      assert.match(msg, /models\[\d+\] \("qwen2\.5-coder-1\.5b-q8"\) field id: duplicates the id of models\[1\]/);
    });

    it('rejects a negative size, naming sizeBytes', () => {
      const msg = brokenMessage((j) => {
        j.models[indexOf(j, 'qwen2.5-coder-7b-q8')].sizeBytes = -5;
      });
      assert.match(msg, /\("qwen2\.5-coder-7b-q8"\) field sizeBytes: must be more than 0 bytes/);
    });

    it('rejects a sha256 that is not 64 lowercase hex digits', () => {
      const msg = brokenMessage((j) => {
        j.models[indexOf(j, 'qwen2.5-coder-7b-q8')].sha256 = 'ABC123';
      });
      assert.match(msg, /\("qwen2\.5-coder-7b-q8"\) field sha256: must be 64 lowercase hex digits/);
    });

    it('rejects an unknown key, naming it', () => {
      const msg = brokenMessage((j) => {
        j.models[indexOf(j, 'qwen2.5-coder-7b-q8')].sizebytes = 1;
      });
      assert.match(msg, /\("qwen2\.5-coder-7b-q8"\): unknown field "sizebytes"/);
    });

    it('rejects an unknown top-level key', () => {
      assert.match(
        brokenMessage((j) => Object.assign(j, { model: [] })),
        /top level: unknown field "model"/,
      );
    });

    it('rejects a missing fim, saying it is missing', () => {
      const msg = brokenMessage((j) => {
        delete j.models[indexOf(j, 'qwen2.5-coder-7b-q8')].fim;
      });
      assert.match(msg, /\("qwen2\.5-coder-7b-q8"\) field fim: is missing/);
    });

    it('rejects an unknown FIM format and wrong FIM tokens', () => {
      const bad = brokenMessage((j) => {
        (j.models[indexOf(j, 'qwen2.5-coder-7b-q8')].fim as { format: string }).format = 'qwen2';
      });
      assert.match(bad, /field fim\.format: must be one of "none", "deepseek", "qwen"/);
      const ascii = brokenMessage((j) => {
        (j.models[indexOf(j, 'deepseek-coder-v2-lite-base-q4km')].fim as { prefix: string }).prefix = '<|fim_begin|>';
      });
      assert.match(ascii, /\("deepseek-coder-v2-lite-base-q4km"\) field fim\.prefix: must be exactly "<｜fim▁begin｜>"/);
    });

    it('rejects an http URL, and a hearth: URL outside the demo tier', () => {
      const http = brokenMessage((j) => {
        const m = j.models[indexOf(j, 'qwen2.5-coder-7b-q8')];
        m.url = String(m.url).replace('https:', 'http:');
      });
      assert.match(http, /field url: must be an https:\/\/ URL/);
      const hearth = brokenMessage((j) => {
        j.models[indexOf(j, 'qwen2.5-coder-7b-q8')].url = 'hearth:generated/other';
      });
      assert.match(hearth, /field url: must be an https:\/\/ URL; hearth: URLs are only for the demo tier/);
    });

    it('rejects a null sha256 without a note, and a null size outside the demo tier', () => {
      const msg = brokenMessage((j) => {
        const m = j.models[indexOf(j, 'qwen2.5-coder-7b-q8')];
        m.sha256 = null;
        m.sizeBytes = null;
        delete m.notes;
      });
      assert.match(msg, /field notes: must say why sha256 is null/);
      assert.match(msg, /field sizeBytes: may only be null for the demo tier/);
    });

    it('rejects a non-kebab-case id, a wrong version and a bad tier', () => {
      const msg = brokenMessage((j) => {
        j.version = 2;
        j.models[indexOf(j, 'qwen2.5-coder-7b-q8')].id = 'Qwen_7B';
        j.models[indexOf(j, 'hearth-code-tiny')].tier = 'tiny';
      });
      assert.match(msg, /field version: must be 1/);
      assert.match(msg, /\("Qwen_7B"\) field id: must be kebab-case/);
      assert.match(msg, /\("hearth-code-tiny"\) field tier: must be one of "demo", "small", "medium", "large"/);
    });

    it('rejects more active than total parameters', () => {
      const msg = brokenMessage((j) => {
        j.models[indexOf(j, 'qwen2.5-coder-7b-q8')].parameters = { total: 1e9, active: 2e9 };
      });
      assert.match(msg, /field parameters: active parameters cannot exceed total/);
    });

    it('names the file when the text is not JSON', () => {
      assert.throws(() => parseManifestText('{ "version": 1,', 'models-manifest/models.json'), (err: unknown) => {
        assert.ok(err instanceof ManifestError);
        assert.match(err.message, /^models-manifest\/models\.json is not a valid model manifest:\n {2}- not valid JSON/);
        return true;
      });
    });
  });
});
