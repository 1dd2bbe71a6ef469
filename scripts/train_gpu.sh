#!/usr/bin/env bash
# Train the shipped checkpoints on one NVIDIA GPU: bf16 autocast and STEPS_SCALE times the CPU
# recipe's steps (scripts/train_defaults.sh names the data, presets, batch sizes and seeds), then
# copy the EMA weights into stdit_cli/weights/<model>/.
#
#   scripts/train_gpu.sh [MODEL...]            # STEPS_SCALE=8 by default
set -euo pipefail
cd "$(dirname "$0")/.."
export DEVICE=cuda PRECISION=bf16 STEPS_SCALE=${STEPS_SCALE:-8} OUT=${OUT:-runs/gpu}
exec scripts/train_defaults.sh "$@"
