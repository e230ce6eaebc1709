#!/bin/sh
# Turns v4's training state into the shipped model file (v4 has been shipped since session 9):
#   models/train/export-v4.sh [DIR] [--checkpoint]
# DIR (default .models/train) holds the run (tokenizer.json, train.jsonl, heldout.jsonl, and model weights).
# --checkpoint: first export DIR/checkpoint.pt of a run that is still going (one process, ~1 min; the run goes on).
# Writes models/hearth-code-tiny.gguf (+ .sha256, by packModel), models/train/checks-v4.json (its tokenizer and PyTorch-logits
# fixtures, checked by test/engine/trainedModel.test.ts) and models/train/run-v4.json (the run record).
# Then: HEARTH_BENCH_MODEL=models/hearth-code-tiny.gguf npm run bench:model (v3 beside it by default).
set -eu
PY=/usr/bin/python3
DIR=${1:-.models/train}
if [ "${2:-}" = "--checkpoint" ]; then
  nice -n 5 $PY models/train/train.py --config "$DIR/config.used.json" --data "$DIR" --out "$DIR" --export-only --checkpoint "$DIR/checkpoint.pt"
fi
node esbuild.config.mjs
node out/scripts/packModel.js --dir "$DIR" --out models/hearth-code-tiny.gguf --quant q8_0
$PY models/train/make_checks.py --dir "$DIR" --out models/train/checks-v4.json --gguf models/hearth-code-tiny.gguf
cp "$DIR/run.json" models/train/run-v4.json
cat models/hearth-code-tiny.gguf.sha256
