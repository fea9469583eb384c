#!/usr/bin/env bash
# GRPO on a learnable reward (issue #8), the last stage of recipe.sh: MuFun-nano refines its
# answers to some tasks' multiple-choice questions with a reward alone, no labels trained on.
# Prompts are the questions of TASKS on the PROMPTS split's clips (val: clips the model never
# trained on; or train); the test clips' questions of the same tasks are asked before and after
# (mufun eval), so what GRPO taught is measured on clips it never rolled out on. Prints their
# accuracy (the letter's option), how often the answer names the right label and how often both are
# right, before and after,
# and the reward and KL curves (metrics.jsonl of the run; every rollout in completions.jsonl).
# The defaults are the recipe's: the two tasks the tower hears better than the LLM answers.
#   WORK=/tmp/mufun-nano MODEL=/tmp/mufun-nano/mixed2/final bash recipes/mufun-nano/grpo.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-/tmp/mufun-nano}
MODEL=${MODEL:-resources/mufun-nano}
TASKS=${TASKS:-instrument,meter}
PROMPTS=${PROMPTS:-val}
REWARD=${REWARD:-choice:1}   # choice (the option mufun eval scores), answer (MuFun's: the label text once)
STEPS=${STEPS:-80}
PER_STEP=${PER_STEP:-8}      # prompts per optimizer step (each with G = 8 rollouts)
LR=${LR:-1e-4}
BETA=${BETA:-0.04}
THREADS=${THREADS:-2}
OUT=${OUT:-$WORK/grpo-${TASKS//,/-}}
mufun() { node bin/mufun.js "$@"; }
[ -d dist ] || npm run build

node -e '
const fs = require("fs"); const [src, out, tasks, prompts] = process.argv.slice(1);
const keep = new Set(tasks.split(","));
for (const [split, name] of [[prompts, "prompts"], ["test", "test"]]) {
  const d = JSON.parse(fs.readFileSync(`${src}/${split}.json`, "utf8"));
  const xs = d.filter((s) => keep.has(s.task) && s.format === "mc");
  if (!xs.length) throw new Error(`no ${split} multiple-choice questions for tasks ${tasks}`);
  fs.writeFileSync(`${out}-${name}.json`, JSON.stringify(xs));
}' "$WORK/data" "$OUT" "$TASKS" "$PROMPTS"

# An eval is skipped when its report exists (as GRPO is when its model does): written whole, to a
# temporary name first, so a stopped eval is not taken for a finished one.
evaluate() { [ -s "$2" ] || { mufun eval --model "$1" --data "$OUT-test.json" --audio-folder "$WORK/data/audio" --json > "$2.part" && mv "$2.part" "$2"; }; }
evaluate "$MODEL" "$OUT-before.json"
[ -f "$OUT/final/model.safetensors" ] || mufun grpo --model "$MODEL" --data "$OUT-prompts.json" --audio-folder "$WORK/data/audio" \
  --tune_type_vision_tower frozen --learning_rate "$LR" --lr_scheduler_type constant --warmup_ratio 0 \
  --num_generations 8 --per_device_train_batch_size 8 --gradient_accumulation_steps "$PER_STEP" --max_steps "$STEPS" \
  --temperature 1 --max_completion_length 8 --beta "$BETA" --reward "$REWARD" --save_steps "$STEPS" \
  --model_max_length 512 --seed 1 --threads "$THREADS" --output_dir "$OUT" --log_completions
evaluate "$OUT/final" "$OUT-after.json"
node recipes/mufun-nano/grpo-summary.mjs "$OUT"
