#!/usr/bin/env bash
# GRPO on a learnable reward (issue #8): MuFun-nano refines its major/minor answers with MuFun's
# answer reward (1 when the completion names the reference's label exactly once), no labels
# trained on. Prints test accuracy on the mode questions before and after, and the reward curve
# (metrics.jsonl of the run). Needs the synthetic data set of recipe.sh (WORK/data).
#   WORK=/tmp/mufun-nano MODEL=resources/mufun-nano STEPS=40 bash recipes/mufun-nano/grpo-mode.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-/tmp/mufun-nano}
MODEL=${MODEL:-resources/mufun-nano}
STEPS=${STEPS:-40}
LR=${LR:-5e-5}
THREADS=${THREADS:-2}
OUT=${OUT:-$WORK/grpo-mode}
mufun() { node bin/mufun.js "$@"; }
[ -d dist ] || npm run build

node -e '
const fs = require("fs"); const [src, dst] = process.argv.slice(1);
for (const split of ["train", "test"]) {
  const d = JSON.parse(fs.readFileSync(`${src}/${split}.json`, "utf8"));
  fs.writeFileSync(`${dst}-${split}.json`, JSON.stringify(d.filter((s) => s.task === "mode" && s.format === "mc")));
}' "$WORK/data" "$WORK/data/mode"

mufun eval --model "$MODEL" --data "$WORK/data/mode-test.json" --audio-folder "$WORK/data/audio" --json > "$OUT-before.json"
mufun grpo --model "$MODEL" --data "$WORK/data/mode-train.json" --audio-folder "$WORK/data/audio" \
  --tune_type_vision_tower frozen --learning_rate "$LR" --lr_scheduler_type constant --warmup_ratio 0 \
  --num_generations 8 --per_device_train_batch_size 8 --gradient_accumulation_steps 4 --max_steps "$STEPS" \
  --temperature 1 --max_completion_length 8 --beta 0.04 --reward answer:1 --save_steps "$STEPS" \
  --model_max_length 512 --seed 1 --threads "$THREADS" --output_dir "$OUT"
mufun eval --model "$OUT/final" --data "$WORK/data/mode-test.json" --audio-folder "$WORK/data/audio" --json > "$OUT-after.json"
node -e '
const fs = require("fs"); const [out] = process.argv.slice(1);
const acc = (f) => JSON.parse(fs.readFileSync(f, "utf8")).overall.accuracy;
const steps = fs.readFileSync(`${out}/metrics.jsonl`, "utf8").trim().split("\n").map(JSON.parse).filter((m) => m.type === "step");
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const curve = steps.map((m) => m.reward);
console.log(JSON.stringify({
  mode_test_accuracy: { before: acc(`${out}-before.json`), after: acc(`${out}-after.json`) },
  reward: { first5: mean(curve.slice(0, 5)), last5: mean(curve.slice(-5)), curve: curve.map((x) => +x.toFixed(3)) },
}, null, 1));' "$OUT"
