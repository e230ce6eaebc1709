#!/bin/sh
# The whole recipe, from the committed data manifest to the GGUF; prints the time of each step.
#   models/train/run.sh            (from the repository root, after models/train/install.sh and npm ci)
# Extra arguments go to train.py, e.g. --max-steps 1500 to replay a recorded run step for step, or --wall-cap S.
# v4 starts from the previous shipped model (models/hearth-code-tiny-v3.gguf, committed): its tokenizer is taken
# from that file (same ids, same merges) and its weights initialize the experts (config.json train.init_from).
set -eu
PY=/usr/bin/python3
OUT=.models/train
start=$(date +%s)
mkdir -p "$OUT"
# v4's data: data-manifest-v4.json (all permissive-licence packages of package-lock.json without v3's 400 kB cap per
# package, 28 MB); its held-out files are exactly data-manifest.json's, which bench:model samples its tasks from.
$PY models/train/prepare_data.py --from-manifest models/train/data-manifest-v4.json --out "$OUT"
$PY models/train/tokenizer.py --from-gguf models/hearth-code-tiny-v3.gguf --out "$OUT/tokenizer.json"
$PY models/train/train.py --config models/train/config.json --data "$OUT" --out "$OUT" "$@"
node esbuild.config.mjs
node out/scripts/packModel.js --dir "$OUT" --out models/hearth-code-tiny.gguf --quant q8_0
$PY models/train/make_checks.py --dir "$OUT" --out models/train/checks.json --gguf models/hearth-code-tiny.gguf
echo "recipe: $(( $(date +%s) - start )) s in all"
