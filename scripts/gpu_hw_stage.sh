#!/usr/bin/env bash
# One lent GPU, one device command (under 10 minutes): two runs of the unet-hw-gpu stage at once
# (scripts/train_defaults.sh: the committed default tuned further in bf16; GPU_LR 1e-4 and 2e-4), each sized
# to SECONDS of training by a 120-step calibration run, after the backbones' speed at 1920x1080
# (scripts/gpu_model_speed.py). Each run's EMA weights (fp32, 12 MB) and one tarball of logs,
# configs and speed figures land in OUTDIR (a device command brings back 8 files of 16 MiB).
#
#   scripts/stage_gpu_data.sh .gpudata                 # here: the material, 44 MiB
#   scripts/device_tree.sh out                         # here: the tree trimmed to 2 MiB, .wts made (then: back)
#   DATA=.gpudata scripts/gpu_hw_stage.sh "$OUT" 320   # there
#
# The device command of 2026-12-04 (carry [".gpudata", ".whl"], timeout 570 s; .whl held the diffusers and
# importlib_metadata wheels; the weights of unet-fast, unet-real, stdit, diffuser, segdit, the sample video
# and the two largest suite JSONs were moved out of the tree for the call, to stay under 64 MiB):
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 3
#   export PYTHONPATH=/tmp/site:$PWD; ln -sfn ../configs stdit_cli/configs   # the package, uninstalled
#   mkdir -p /tmp/bin; printf '#!/bin/sh\nexec python3 -m stdit_cli "$@"\n' > /tmp/bin/stdit; chmod +x /tmp/bin/stdit
#   export PATH=/tmp/bin:$PATH; DATA=.gpudata scripts/gpu_hw_stage.sh $OUT 300 2>&1 | tee $OUT/driver.log
#   DEVICE=cpu GPU_BATCH=1 GPU_CROP=48 SPEED_SIZE=160x96 DATA=.gpudata scripts/gpu_hw_stage.sh /tmp/dry 5   # a dry run here
# The second chunk (2026-12-04, the same tree trimming, carry [".gpudata", ".whl"], timeout 460 s, 364 s run;
# the shipped stage unet-hw-gpu2 is its run d):
#   . scripts/device_setup.sh || exit 3
#   STEPS=1500 SKIP_SPEED=1 VARIANTS="c 2e-4 159;d 2e-4 169 0.4" DATA=.gpudata scripts/gpu_hw_stage.sh $OUT 330 2>&1 | tee $OUT/driver.log
# The third chunk (2026-12-05, an H100, the tree trimmed to code + configs, carry [".gpudata", ".whl", ".wts"]:
# .whl = the diffusers and importlib_metadata wheels, .wts = bf16 copies of weights/unet and weights/unet-fast
# made with scripts/export_bf16.py; timeout 560 s, 526 s run; the default's run e stopped at its step-1500
# checkpoint of 2300: with two --fast runs beside it its calibration read 6.8 steps/s, it trained at 3.3):
#   . scripts/device_setup.sh || exit 3
#   SKIP_SPEED=1 VARIANTS="e 2e-4 271 0.4;f 1.5e-4 263 0.5 unet-fast-gpu;g 3e-4 269 0.5 unet-fast-gpu" \
#     DATA=.gpudata scripts/gpu_hw_stage.sh $OUT 340 2>&1 | tee $OUT/driver.log
# CAL_FACTOR (default 0.7) scales the calibrated steps down for that reason.
#
# Then, here: the validation suite on both (scripts/benchmark_quality.py --variant), ship the better
# only if it beats the committed weights on the mean and on the worst clip. The runs never write into
# stdit_cli/weights (NO_SHIP): only OUTDIR comes back, so nothing changes here until you copy a run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
out=${1:?usage: gpu_hw_stage.sh OUTDIR [SECONDS]}
seconds=${2:-320}
# NO_SHIP: the runs never write into stdit_cli/weights (a dry run here would replace the committed default)
export DEVICE=${DEVICE:-cuda} PRECISION=bf16 DATA=${DATA:-.gpudata} PYTHONUNBUFFERED=1 NO_SHIP=1
# from the committed default and --fast weights (every lent GPU adds to them), copied first
mkdir -p "$out" runs
if [ -z "${HWG_INIT:-}" ]; then rm -rf runs/hwg-init && cp -r stdit_cli/weights/unet runs/hwg-init && HWG_INIT=runs/hwg-init; fi
if [ -z "${FASTG_INIT:-}" ]; then rm -rf runs/fastg-init && cp -r stdit_cli/weights/unet-fast runs/fastg-init && FASTG_INIT=runs/fastg-init; fi
export HWG_INIT FASTG_INIT
log=$out/logs
mkdir -p "$log"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nproc; command -v ffmpeg || echo "no ffmpeg on PATH"
  python3 -c 'import torch, diffusers; print(torch.__version__, diffusers.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))'; } > "$log/env.txt" 2>&1
cat "$log/env.txt"

if [ -z "${SKIP_SPEED:-}" ]; then  # SKIP_SPEED=1: measured already (scripts/results/2026-12-04_gpu_model_speed_h200.json)
  python3 scripts/gpu_model_speed.py --device "$DEVICE" --size "${SPEED_SIZE:-1920x1080}" --out "$log/gpu_model_speed.json" > "$log/speed.log" 2>&1
  tail -4 "$log/speed.log"
fi

# VARIANTS: "name lr seed [smooth share [stage]]" per run, ';'-separated (the first lent GPU ran these two);
# the stage is unet-hw-gpu (the default's weights) unless named, e.g. unet-fast-gpu (--fast's weights)
IFS=';' read -r -a variants <<< "${VARIANTS:-a 1e-4 139;b 2e-4 149}"
declare -A steps_of
rate_of() {  # steady steps/s between the log's step-50 and step-100 lines (each prints the running mean)
  python3 - "$1" <<'PY'
import re, sys
marks = {int(n): float(r) for n, r in re.findall(r"step (\d+): loss [\d.]+, ([\d.]+) steps/s", open(sys.argv[1]).read())}
print(f"{50 / (100 / marks[100] - 50 / marks[50]):.3f}" if 50 in marks and 100 in marks else "0")
PY
}
if [ -n "${STEPS:-}" ]; then  # STEPS: no calibration (two runs at once: 4.7 steps/s each on an H200, 2026-12-04)
  for v in "${variants[@]}"; do read -r name _ <<< "$v"; steps_of[$name]=$STEPS; done
  echo "steps given: $STEPS each" | tee "$log/plan.txt"
else  # each run sized by its own rate, all runs calibrating at once as they will train
  for v in "${variants[@]}"; do
    read -r name lr seed smooth stage <<< "$v"
    GPU_STEPS=120 GPU_LR=$lr GPU_SEED=$seed GPU_SMOOTH=${smooth:-0.25} OUT=runs/gpucal-$name \
      scripts/train_defaults.sh "${stage:-unet-hw-gpu}" > "$log/cal-$name.log" 2>&1 &
  done
  wait
  for v in "${variants[@]}"; do
    read -r name _ <<< "$v"
    rate=$(rate_of "$log/cal-$name.log")
    steps_of[$name]=$(python3 -c "print(max(200, int($rate * $seconds * ${CAL_FACTOR:-0.7}) // 100 * 100))")
    echo "calibration $name: $rate steps/s with all runs at once -> ${steps_of[$name]} steps" | tee -a "$log/plan.txt"
  done
fi

for v in "${variants[@]}"; do
  read -r name lr seed smooth stage <<< "$v"
  GPU_STEPS=${steps_of[$name]} GPU_LR=$lr GPU_SEED=$seed GPU_SMOOTH=${smooth:-0.25} OUT=runs/gpu-$name \
    timeout $(( seconds + 100 )) scripts/train_defaults.sh "${stage:-unet-hw-gpu}" > "$log/train-$name.log" 2>&1 &
done
wait
for v in "${variants[@]}"; do
  read -r name _ _ _ stage <<< "$v"
  stage=${stage:-unet-hw-gpu}
  run=runs/gpu-$name/$stage
  [ -f "$run/diffusion_pytorch_model.safetensors" ] || run=$(find "$run" -maxdepth 1 -name "checkpoint-*" | sort -V | tail -1)
  echo "$name: $run" | tee -a "$log/plan.txt"
  [ -n "$run" ] || continue
  cp "$run/diffusion_pytorch_model.safetensors" "$out/$name.safetensors"
  mkdir -p "$log/$name"
  cp "$run"/{config.json,scheduler_config.json,stdit.json} "$log/$name/" 2>/dev/null
  cp "runs/gpu-$name/$stage/train_config.json" "$log/$name/" 2>/dev/null
  tail -5 "$log/train-$name.log"
done
tar czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$log"
ls -la "$out"
