#!/usr/bin/env bash
# Prepares the one GPU run (bench/gpu.ts) for the device tool: bundles it into dist-gpu/gpu.mjs
# (only onnxruntime-node stays external) and packs node + onnxruntime-node + Vulkan loaders into
# .devpack/ with ../shared/tools/device-pack.sh. Then call the device tool with
#   carry: [".devpack", "dist-gpu"]
#   command: MUFUN_TORCH_SCRIPT=.devpack/torch_mufun.py bash .devpack/device-run.sh node dist-gpu/gpu.mjs . > $OUT/gpu.json
# The copy sent to the GPU machine is the working tree + carried paths, at most 64 MiB: the tracked
# tree is ~42 MB and .devpack ~36 MB, so move the embedded model aside for the run
# (mv resources/mufun-nano /tmp/ before, back after); the fixture it checks stays.
set -euo pipefail
cd "$(dirname "$0")/.."
npx esbuild bench/gpu.ts --bundle --platform=node --format=esm --target=node20 --outfile=dist-gpu/gpu.mjs \
  --external:onnxruntime-node --banner:js="import { createRequire } from 'module'; const require = createRequire(import.meta.url);"
bash ../shared/tools/device-pack.sh onnxruntime-node onnxruntime-common
du -sh dist-gpu .devpack
