#!/usr/bin/env bash
# Train on one NVIDIA GPU with bf16 autocast; the EMA weights are copied into stdit_cli/weights/<model>/.
#
#   scripts/train_gpu.sh                     # unet-gpu: the unet, tuned further at batch 16 (GPU_STEPS steps)
#   GPU_BATCH=64 GPU_LR=4e-4 GPU_STEPS=3000 scripts/train_gpu.sh   # the same stage with 4x the clips per step
#   STEPS_SCALE=8 scripts/train_gpu.sh unet stdit diffuser segdit   # the whole CPU recipe, 8x the steps
#   GPU_SEED=$RANDOM scripts/train_gpu.sh gpu-chunk   # one ~8-minute chunk of the GPU-class unet (preset gpu):
#                                            # from stdit_cli/weights/unet-gpu when it ships, its bf16 EMA weights
#                                            # written back there (commit them; the next lent GPU goes on)
#   UNET_INIT=stdit_cli/weights/unet scripts/train_gpu.sh unet-head-gpu   # the next stage: from the shipped unet,
#                                            # full-resolution head included (GPU_STEPS/GPU_BATCH/GPU_LR as above)
#
# unet-gpu starts from UNET_INIT: the CPU recipe's last unet stage ($OUT/unet-lean240). The unet
# shipped before it is a copy of that run's weights: UNET_INIT=stdit_cli/weights/unet starts from
# there without re-running the CPU stages. scripts/train_defaults.sh names the data, preset and seed.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEVICE=cuda PRECISION=bf16 STEPS_SCALE=${STEPS_SCALE:-1} OUT=${OUT:-runs/gpu}
[ $# -gt 0 ] || set -- unet-gpu
exec scripts/train_defaults.sh "$@"
