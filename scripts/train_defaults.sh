#!/usr/bin/env bash
# Train the checkpoints shipped in stdit_cli/weights/<model>/ from ../shared/data.
#
#   scripts/train_defaults.sh [MODEL...]      # default: every stage behind the shipped files, in order:
#                                             # unet unet-gpu unet-fast unet-tune unet-head unet-hw unet-hw3 unet-hw-gpu unet-hw-gpu2 unet-fast-hr unet-fast-hr2 unet-fast-hr3 unet-fast-hr4 unet-fast-hr5 unet-fast-hr6 unet-fast-hr7 unet-fast-real unet-fast-real2 unet-fast-real-gray unet-fast-real-blotch unet-h264 unet-real unet-real-hw2
#                                             # unet-real-pairs unet-real-cam unet-real-cfa unet-real-clean unet-real-gray unet-real-blotch unet-hw-gpu3 unet-fast-gpu unet-h264-gpu3 unet-h264-half stdit diffuser segdit
#                                             # (unet-gpu, unet-hw-gpu and unet-hw-gpu2 were run on an H200, unet-hw-gpu3 and unet-fast-gpu on an
#                                             # H100; on a CPU they take hours. unet-hw-gpu3 comes after the stages that slice or start from weights/unet)
#   scripts/train_defaults.sh unet-gpu        # one more unet stage, on a GPU (scripts/train_gpu.sh)
#   scripts/train_defaults.sh unet-tune       # then two CPU stages on top of it
#   scripts/train_defaults.sh unet-head       # then a full-resolution head, one CPU stage: the shipped unet
#   scripts/train_defaults.sh unet-head-gpu   # the next GPU stage, from there (scripts/train_gpu.sh unet-head-gpu)
#   scripts/train_defaults.sh halfres         # the halfres unet (an experiment of 2026-12-03, not shipped)
#   scripts/train_defaults.sh unet-hw         # the shipped unet: small-lean's levels behind a 2x2 stem (preset halfres-wide), from the
#                                             # unet-head weights (UNET_INIT), on native-scale footage with the content mix, then a second stage (unet-hw2)
#   scripts/train_gpu.sh unet-hw-gpu unet-hw-gpu2   # the shipped unet: unet-hw3 tuned further on a GPU in two chunks
#                                             # (scripts/gpu_hw_stage.sh on a lent one, data from scripts/stage_gpu_data.sh)
#   scripts/train_defaults.sh unet-h264       # the unet for white noise in lossy 4:2:0 video (weights/unet-h264), from the default
#   scripts/train_defaults.sh unet-real       # the real-noise unet (--noise real), fine-tuned from unet-hw with camera noise
#   scripts/train_defaults.sh unet-real-hw2   # unet-real's stages carried over to unet-hw2, one more stage
#   scripts/train_defaults.sh unet-real-pairs # from there, with real noisy/clean photo pairs
#   scripts/train_defaults.sh unet-real-cam   # from there, without white-noise clips
#   scripts/train_defaults.sh unet-real-cfa   # from there, the Bayer phase drawn per clip
#   scripts/train_defaults.sh unet-real-clean # from there, clean clips under a level label, averaged with its start
#   scripts/train_defaults.sh unet-real-blotch # the shipped real-noise unet: from there, phones' colour blotches, averaged with its start
#   scripts/train_defaults.sh unet-real-gpu2  # the real-noise stages carried over to unet-hw-gpu2, one more stage (not shipped)
#   scripts/train_defaults.sh unet-fast-hr unet-fast-hr2 unet-fast-hr3 unet-fast-hr4 unet-fast-hr5 unet-fast-hr6 unet-fast-hr7   # the --fast checkpoint (preset halfres-fast), sliced from the default, seven CPU stages
#   scripts/train_defaults.sh unet-fast-real unet-fast-real2  # --fast's real-noise weights (weights/unet-fast-real), from the seventh stage, two stages
#   scripts/train_defaults.sh unet-fast-real-blotch # then phones' colour blotches, averaged with its start: the shipped --fast real-noise weights
#   scripts/train_defaults.sh unet-real-gray unet-fast-real-gray  # the real-noise weights for black-and-white video, default and --fast
#   scripts/train_gpu.sh gpu-chunk            # one resumable chunk of the GPU-class unet (weights/unet-gpu)
#
# Data: DAVIS-2016 (20 sequences) + Vimeo-90K septuplets as video, BSDS500 train+test as stills
# with synthetic camera motion, all box-downscaled 2x (averages away the sensor noise and JPEG
# blocking of the "clean" frames). Validation PSNR during training: Vid4 "walk" (held apart).
# Environment: DATA (default ../shared/data), DEVICE (auto), PRECISION (fp32; bf16 on GPUs),
# STEPS_SCALE (multiplies every step count; GPU runs use a larger value), OUT (runs/defaults),
# THREADS (CPU threads per run; default all cores), UNET_INIT (the weights unet-gpu starts from;
# default the unet stages' last run), GPU_STEPS, GPU_BATCH, GPU_LR (the GPU stages' steps, batch size
# and learning rate; each stage's defaults are its shipped run), GPU_CROP, GPU_SEED, HWG_INIT
# (unet-hw-gpu's crop, seed and starting weights), GPU_SMOOTH (unet-hw-gpu's share of flat and smooth
# clips), VAL (validation clip).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-../shared/data}
DEVICE=${DEVICE:-auto}
PRECISION=${PRECISION:-fp32}
STEPS_SCALE=${STEPS_SCALE:-1}
OUT=${OUT:-runs/defaults}
MODELS=("$@")
[ ${#MODELS[@]} -gt 0 ] || MODELS=(unet unet-gpu unet-fast unet-tune unet-head unet-hw unet-hw3 unet-hw-gpu unet-hw-gpu2 unet-fast-hr unet-fast-hr2 unet-fast-hr3 unet-fast-hr4 unet-fast-hr5 unet-fast-hr6 unet-fast-hr7 unet-fast-real unet-fast-real2 unet-fast-real-gray unet-fast-real-blotch unet-h264 unet-real unet-real-hw2 unet-real-pairs unet-real-cam unet-real-cfa unet-real-clean unet-real-gray unet-real-blotch unet-hw-gpu3 unet-fast-gpu unet-h264-gpu3 unet-h264-half stdit diffuser segdit)

all_data=(
  --data "frames:$DATA/davis2016_val_480p"
  --data "frames:$DATA/vimeo_septuplet_samples"
  --data "stills:$DATA/bsds500/train"
  --data "stills:$DATA/bsds500/test"
)
# 192 px crops: only DAVIS (427x240 once downscaled) is that large; Vimeo (224x128) and BSDS (240x160) are not
davis=(--data "frames:$DATA/davis2016_val_480p")
VAL=${VAL-frames:$DATA/vid4/walk}  # VAL= (empty): validate on the first training sequence
common=(--downscale 2 --device "$DEVICE" --precision "$PRECISION")
[ -z "$VAL" ] || common+=(--val "$VAL")
[ -z "${THREADS:-}" ] || common+=(--threads "$THREADS")

ship() {  # run model: copy the run's EMA weights, config and noise schedule (not the optimiser state); NO_SHIP=1: not
  [ -z "${NO_SHIP:-}" ] || return 0
  mkdir -p "stdit_cli/weights/$2"
  cp "$OUT/$1"/{config.json,diffusion_pytorch_model.safetensors,scheduler_config.json,stdit.json} "stdit_cli/weights/$2/"
}

fit() {  # run model preset steps batch crop lr seed [--data ... and other `stdit train` options, last wins]
  local run=$1 model=$2 preset=$3 steps=$(( $4 * STEPS_SCALE )) batch=$5 crop=$6 lr=$7 seed=$8
  shift 8
  stdit train --model "$model" --config "$preset" "${common[@]}" \
    --steps "$steps" --batch-size "$batch" --crop "$crop" --lr "$lr" --seed "$seed" \
    --warmup $(( steps / 5 < 200 ? steps / 5 : 200 )) --checkpoint-every 250 --val-every 250 --out "$OUT/$run" --resume latest "$@"
}

carry_real_over() {  # old_base tuned new_base graft run seed: new_base + (tuned - old_base), then 800 steps of
  # the fourth real-noise stage's camera-noise mix (scripts/graft_weights.py)
  python scripts/graft_weights.py --old-base "$1" --tuned "$2" --new-base "$3" --out "$OUT/$4"
  fit "$5" unet halfres-wide 800 4 128 1e-4 "$6" "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
    --init-from "$OUT/$4" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 --checkpoint-every 200 \
    --camera-fraction 0.7 "${camera_mix[@]}"
}

real_shot_stage() {  # run init steps seed warmup shot_lo shot_hi [more options]: the shipped real-noise stage's mix
  # (unet-real-blotch's) from a copy of INIT's weights, with the cameras' shot gain drawn in shot_lo..shot_hi, fp32
  local run=$1 init=$2 steps=$3 seed=$4 warmup=$5 shot_lo=$6 shot_hi=$7
  shift 7
  mkdir -p "$OUT/$run-init"
  cp "$init"/{config.json,diffusion_pytorch_model.safetensors,scheduler_config.json,stdit.json} "$OUT/$run-init/"
  fit "$run" unet halfres-wide "$steps" 4 128 8e-5 "$seed" "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
    --init-from "$OUT/$run-init" --warmup $(( warmup * STEPS_SCALE )) \
    --checkpoint-every 100 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
    --camera-clean-level 3 10 "${camera_mix[@]}" "${real_pairs[@]}" --camera-blotch-fraction 0.5 \
    --camera-shot-range "$shot_lo" "$shot_hi" "$@"
}

# the validation suite's DAVIS clips (scripts/validation_suite.py HELD_OUT_DAVIS) never train
held_out=" blackswan car-shadow dog kite-surf scooter-black "
davis_train=()
for sequence in "$DATA"/davis2016_val_480p/*/; do
  [ -d "$sequence" ] || continue
  name=$(basename "$sequence")
  [[ $held_out == *" $name "* ]] || davis_train+=(--data "frames:$DATA/davis2016_val_480p/$name")
done
native=("${davis_train[@]}" --data "frames:$DATA/vimeo_septuplet_samples" --data "stills:$DATA/bsds500/train" --data "stills:$DATA/bsds500/test")
# what a lent GPU holds (scripts/stage_gpu_data.sh): the DAVIS training sequences and BSDS train stills
gpu_material=("${davis_train[@]}")
[ ! -d "$DATA/bsds500/train" ] || gpu_material+=(--data "stills:$DATA/bsds500/train")
# native scale, each crop area-downscaled by 1-2x, 20% blurred like a soft lens, 10% synthetic
# flat fields and gradients (stdit_cli/train/content.py); validation on a held-out DAVIS clip
content=(--downscale 1 --scale-range 1 2 --soft-fraction 0.2 --smooth-fraction 0.1 --sigma-weight-power 0.3
         --val "frames:$DATA/davis2016_val_480p/dog" --checkpoint-every 500 --val-every 250)

# the fourth real-noise stage's camera-noise mix (all but its share of camera clips), and real
# noisy/clean photo pairs: PolyU's crops of two of its five cameras (the other three only validate)
camera_mix=(--camera-jpeg-fraction 0.5 --camera-chroma-fraction 0.7 --camera-blur-fraction 0.9
            --camera-blur-sigma 0.6 2.0 --camera-shot-range 1e-5 1e-1)
real_pairs=(--real-pairs "$DATA/polyu_real_noise" --real-fraction 0.25)

for model in "${MODELS[@]}"; do
  case $model in
    # preset halfres (a 2x2 stem) from scratch, bf16, as run on the 2-core CPU on 2026-12-03: 500 steps
    # of a 5000-step schedule, then a fresh 1800-step cosine from there. Not shipped: at 2300 steps it
    # scored below the shipped unet (docs/training.md); a longer run (STEPS_SCALE, a GPU) is next
    # (ship halfres2 unet replaces the default: check the validation suite first)
    halfres) fit halfres unet halfres 5000 4 128 4e-4 7 "${native[@]}" "${content[@]}" --precision bf16 --stop-at $(( 500 * STEPS_SCALE ))
             fit halfres2 unet halfres 1800 4 128 4e-4 8 "${native[@]}" "${content[@]}" --precision bf16 \
               --init-from "$OUT/halfres" --warmup $(( 30 * STEPS_SCALE )) ;;
    # preset halfres-wide: the unet-head stage's levels (UNET_INIT, default its run; the 2026-12-03 run started from its shipped copy, the then weights/unet) behind a
    # 2x2 stem (--init-partial: all but conv_in/conv_out copied, the head dropped), as run on the
    # 2-core CPU on 2026-12-03 in bf16; native-scale footage without the suite's clips, crops
    # area-downscaled 1-2x, 20% blurred, 15% synthetic smooth fields; validation on held-out DAVIS dog.
    # That run was stopped by hand at its step-2500 checkpoint (the same EMA weights as --stop-at 2500
    # writes). Then a second stage from it: a fresh 2000-step cosine at lr 1.5e-4, the same material with
    # 20% smooth clips instead of 15%, seed 113 (2026-12-03 night, bf16, 67 CPU minutes; that run
    # started from the shipped copy of unet-hw, HW_INIT=stdit_cli/weights/unet). The shipped default
    # since 2026-12-03 night; the real-noise unet below derives from the first stage, unet-hw
    unet-hw) fit unet-hw unet halfres-wide 3000 4 128 3e-4 71 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
               --init-from "${UNET_INIT:-$OUT/unet-head}" --init-partial --warmup $(( 100 * STEPS_SCALE )) \
               --precision bf16 --checkpoint-every 250 --stop-at $(( 2500 * STEPS_SCALE ))
             fit unet-hw2 unet halfres-wide 2000 4 128 1.5e-4 113 "${native[@]}" "${content[@]}" --smooth-fraction 0.2 \
               --init-from "${HW_INIT:-$OUT/unet-hw}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16 --checkpoint-every 250
             ship unet-hw2 unet ;;
    # a third stage from the second (HW3_INIT, default its run; the 2026-12-04 run started from the shipped
    # copy, HW3_INIT=stdit_cli/weights/unet): a fresh 1600-step cosine at lr 1e-4 with 25% smooth clips, seed 127
    unet-hw3) fit unet-hw3 unet halfres-wide 1600 4 128 1e-4 127 "${native[@]}" "${content[@]}" --smooth-fraction 0.25 \
                --init-from "${HW3_INIT:-$OUT/unet-hw2}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16 --checkpoint-every 200
              ship unet-hw3 unet ;;  # weights/unet on 2026-12-04 (validation suite +0.18-0.20 dB), until unet-hw-gpu
    # small frames (2026-12-06, the 2-core CPU; an experiment, not in the default order): the shipped default
    # (TINY_INIT) a fresh 600-step cosine at lr 5e-5, seed 281, its crops area-downscaled 1-4x instead of 1-2x
    # (denser texture, as in 176x144 video), 40% smooth clips as on the GPU. Not shipped: the suite -0.04 dB (21 of 66
    # cases up: dense texture +0.1 to +0.26, flat fields -0.55; scripts/results/2026-12-06_tiny_scale_finetune.md)
    unet-tiny) fit unet-tiny unet halfres-wide 600 4 128 5e-5 281 "${native[@]}" "${content[@]}" --smooth-fraction 0.4 \
                 --scale-range 1 4 --init-from "${TINY_INIT:-stdit_cli/weights/unet}" --warmup $(( 30 * STEPS_SCALE )) \
                 --precision bf16 --checkpoint-every 200 ;;
    # a fourth stage from the third (HW4_INIT, default its run): a fresh 800-step cosine at lr 8e-5 with 30%
    # smooth clips, seed 131 (an experiment of 2026-12-04: not shipped, not in the default order)
    unet-hw4) fit unet-hw4 unet halfres-wide 800 4 128 8e-5 131 "${native[@]}" "${content[@]}" --smooth-fraction 0.3 \
                --init-from "${HW4_INIT:-$OUT/unet-hw3}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 --checkpoint-every 200 ;;
    # the fourth stage, on one lent GPU in bf16 (scripts/gpu_hw_stage.sh runs it in one 10-minute device
    # command): from the third (HWG_INIT, default its run; on a lent GPU the shipped weights/unet), a fresh
    # cosine of GPU_STEPS steps at batch GPU_BATCH on GPU_CROP px crops, lr GPU_LR, seed GPU_SEED, of the
    # DAVIS training sequences and BSDS train stills found under $DATA (a lent machine holds the subset
    # scripts/stage_gpu_data.sh copies: everything travels in 64 MiB), the content mix above with 25%
    # smooth clips. The defaults are the run that ships (weights/unet since 2026-12-04, an H200: validation
    # suite +0.32 / +0.37 / +0.42 dB, every clip better)
    unet-hw-gpu) fit unet-hw-gpu unet halfres-wide "${GPU_STEPS:-1400}" "${GPU_BATCH:-16}" "${GPU_CROP:-192}" "${GPU_LR:-2e-4}" \
                   "${GPU_SEED:-149}" "${gpu_material[@]}" "${content[@]}" --smooth-fraction "${GPU_SMOOTH:-0.25}" \
                   --init-from "${HWG_INIT:-$OUT/unet-hw3}" --warmup 100 --checkpoint-every 500
                 ship unet-hw-gpu unet ;;  # weights/unet on 2026-12-04 (suite +0.32 / +0.37 / +0.42 dB), until unet-hw-gpu2
    # the fifth stage, the second GPU chunk (2026-12-04, an H200, scripts/gpu_hw_stage.sh with
    # VARIANTS="c 2e-4 159;d 2e-4 169 0.4" STEPS=1500, HWG_INIT the committed weights/unet): from the
    # fourth (HWG2_INIT, default its run), a fresh 1500-step cosine at batch 16 on 192 px crops, lr 2e-4,
    # seed 169, 40% smooth clips; the run that ships (weights/unet since 2026-12-04, second chunk: suite
    # +0.19 / +0.24 / +0.28 dB over the fourth, every clip better; its twin with 25% smooth clips, seed
    # 159, scored the same means and a worse worst clip, their average in between)
    unet-hw-gpu2) fit unet-hw-gpu2 unet halfres-wide 1500 16 192 2e-4 169 "${gpu_material[@]}" "${content[@]}" --smooth-fraction 0.4 \
                    --init-from "${HWG2_INIT:-$OUT/unet-hw-gpu}" --warmup 100 --checkpoint-every 500
                  ship unet-hw-gpu2 unet ;;  # weights/unet on 2026-12-04 and 2026-12-05, until unet-hw-gpu3
    # the sixth stage, the third GPU chunk (2026-12-05, an H100, run e of scripts/gpu_hw_stage.sh beside two --fast runs),
    # what ships as weights/unet: from the fifth (HWG3_INIT, default its run) after 120 steps of the same stage at batch 1
    # on 48 px crops on the 2-core CPU (gpu_hw_stage.sh's dry run, which then wrote into weights/unet: what the device
    # carried, in bf16), a 2300-step cosine at batch 16 on 192 px crops, lr 2e-4, seed 271, 40% smooth clips, stopped at
    # its step-1500 checkpoint (the command's time ran out). Paired on the suite's 22 clips: +0.14 / +0.18 / +0.22 dB,
    # all 66 clip-sigma cases better (scripts/results/2026-12-05_gpu_chunk3.md)
    unet-hw-gpu3) fit unet-hw-gpu3-dry unet halfres-wide 120 1 48 2e-4 271 "${gpu_material[@]}" "${content[@]}" --smooth-fraction 0.4 \
                    --init-from "${HWG3_INIT:-$OUT/unet-hw-gpu2}" --warmup 100 --checkpoint-every 500 --precision bf16
                  fit unet-hw-gpu3 unet halfres-wide 2300 16 192 2e-4 271 "${gpu_material[@]}" "${content[@]}" --smooth-fraction 0.4 \
                    --init-from "$OUT/unet-hw-gpu3-dry" --warmup 100 --checkpoint-every 500 --stop-at 1500
                  ship unet-hw-gpu3 unet ;;
    # --fast's weights on one lent GPU in bf16 (scripts/gpu_hw_stage.sh, a variant whose fifth field names this
    # stage): from the seventh CPU stage (FASTG_INIT, default its run; on a lent GPU the shipped weights/unet-fast,
    # carried in bf16), a fresh cosine of GPU_STEPS steps at batch GPU_BATCH on GPU_CROP px crops, lr GPU_LR, seed
    # GPU_SEED, of the material a lent GPU holds, the content mix with GPU_SMOOTH flat or smooth clips. The defaults
    # are the run that ships (weights/unet-fast since 2026-12-05 night, an H100, run g beside the default's run e and a
    # twin at lr 1.5e-4: suite +0.26 dB, 65 of 66 cases better, the flat field at sigma 25 2.47 -> 2.19 grey levels;
    # the twin +0.22, the two averaged below g; scripts/results/2026-12-05_gpu_chunk3.md)
    unet-fast-gpu) fit unet-fast-gpu unet halfres-fast "${GPU_STEPS:-1800}" "${GPU_BATCH:-16}" "${GPU_CROP:-192}" "${GPU_LR:-3e-4}" \
                     "${GPU_SEED:-269}" "${gpu_material[@]}" "${content[@]}" --smooth-fraction "${GPU_SMOOTH:-0.5}" \
                     --init-from "${FASTG_INIT:-$OUT/unet-fast-hr7}" --warmup 100 --checkpoint-every 500
                   ship unet-fast-gpu unet-fast ;;
    # white noise stored as 4:2:0 H.264 (2026-12-05, the 2-core CPU; weights/unet-h264, what no number runs on
    # white noise in a lossy 4:2:0 video): from the default (H264_INIT, default the unet-hw-gpu2 run; as run, the
    # shipped copy, H264_INIT=stdit_cli/weights/unet), a fresh 600-step cosine at lr 8e-5, seed 229, every white-noise
    # clip x264-encoded at CRF 12-30 after the noise and labelled with the level the pipeline reads on it
    # (stdit_cli/train/compressed_noise.py), 30% smooth clips (14 CPU minutes)
    unet-h264) fit unet-h264 unet halfres-wide 600 4 128 8e-5 229 "${native[@]}" "${content[@]}" --smooth-fraction 0.3 \
                 --init-from "${H264_INIT:-$OUT/unet-hw-gpu2}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                 --checkpoint-every 100 --compressed-fraction 1.0
               python scripts/export_bf16.py "$OUT/unet-h264" stdit_cli/weights/unet-h264 ;;
    # the H.264 weights carried over to the sixth stage (2026-12-05 night; shipped as weights/unet-h264 until 2026-12-07): no
    # training, unet-hw-gpu3 + (unet-h264 - unet-hw-gpu2) (scripts/graft_weights.py, bf16): 40 of 40 cases of
    # white noise in 4:2:0 H.264 (CRF 10-28) better, +0.12 dB on average (scripts/results/2026-12-05_gpu_chunk3.md)
    unet-h264-gpu3) python scripts/graft_weights.py --old-base "$OUT/unet-hw-gpu2" --tuned "$OUT/unet-h264" \
                      --new-base "$OUT/unet-hw-gpu3" --out "$OUT/unet-h264-gpu3" --bf16 ;;
    # ... shipped halfway (2026-12-07; weights/unet-h264): no training, the default (weights/unet, what unet-hw-gpu3
    # ships) + 0.5 x (unet-h264-gpu3 - the default). Against unet-h264-gpu3 on 38 cases of white noise in 4:2:0
    # H.264 (CRF 10-28, sigma 10-50): +0.16 dB on average, 30 up, worst -0.22 (CRF 28 at sigma 25), the flat field
    # at sigma 10 +3.4 (scripts/results/2026-12-07_h264_half.md)
    unet-h264-half) python scripts/graft_weights.py --old-base stdit_cli/weights/unet --new-base stdit_cli/weights/unet \
                      --tuned "${H264_TUNED:-$OUT/unet-h264-gpu3}" --alpha 0.5 --bf16 --out stdit_cli/weights/unet-h264 ;;
    # from there 400 steps at lr 4e-5, seed 233, 15% of the encoded clips without noise (labelled with the level read
    # on them). Not shipped (2026-12-05): dense clean texture stored as H.264 +0.1 dB from its input, noisy clips
    # -0.13 to +0.05 (scripts/results/2026-12-05_compressed_white.md)
    unet-h264b) fit unet-h264b unet halfres-wide 400 4 128 4e-5 233 "${native[@]}" "${content[@]}" --smooth-fraction 0.3 \
                  --init-from "$OUT/unet-h264" --warmup $(( 20 * STEPS_SCALE )) --precision bf16 \
                  --checkpoint-every 100 --compressed-fraction 1.0 --compressed-clean-fraction 0.15 ;;
    # the real-noise unet (`--noise real`, weights/unet-real): the default unet (UNET_INIT, default the
    # unet-hw run) fine-tuned with 60% of the clips given camera noise (stdit_cli/train/camera_noise.py:
    # Poisson-Gaussian on a Bayer mosaic, demosaiced, 30% with the noise blurred by in-camera noise
    # reduction, half of them JPEG 50-95) at their measured noise level, 40% white noise as before:
    # 600 steps of a 1600-step cosine, then a fresh 1000-step cosine with 70% of the camera clips'
    # colour noise blurred 1.5-4 px (PolyU's colour noise is that blotchy); then a fresh 1200-step
    # cosine with 70% camera clips, 90% of them with the noise blurred 0.6-2 px (PolyU's noise is
    # that correlated: neighbouring pixels 0.63, against 0.17 for the earlier mix); then a fresh
    # 1000-step cosine with the cameras' shot gain up to 1e-1 instead of 1.2e-2 (noise levels up to
    # about 60 on 0..255: phone footage at night, which the earlier stages rarely saw above 15).
    # As run on the 2-core CPU on 2026-12-03 in bf16; shipped in bf16 (scripts/export_bf16.py)
    unet-real) fit unet-real unet halfres-wide 1600 4 128 1.5e-4 89 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                 --init-from "${UNET_INIT:-$OUT/unet-hw}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16 --checkpoint-every 200 \
                 --camera-fraction 0.6 --camera-jpeg-fraction 0.5 --stop-at $(( 600 * STEPS_SCALE ))
               fit unet-real2 unet halfres-wide 1000 4 128 1e-4 97 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                 --init-from "$OUT/unet-real" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 --checkpoint-every 200 \
                 --camera-fraction 0.6 --camera-jpeg-fraction 0.5 --camera-chroma-fraction 0.7
               fit unet-real3 unet halfres-wide 1200 4 128 1e-4 101 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                 --init-from "$OUT/unet-real2" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 --checkpoint-every 200 \
                 --camera-fraction 0.7 --camera-jpeg-fraction 0.5 --camera-chroma-fraction 0.7 \
                 --camera-blur-fraction 0.9 --camera-blur-sigma 0.6 2.0
               fit unet-real4 unet halfres-wide 1000 4 128 1e-4 103 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                 --init-from "$OUT/unet-real3" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 --checkpoint-every 200 \
                 --camera-fraction 0.7 --camera-jpeg-fraction 0.5 --camera-chroma-fraction 0.7 \
                 --camera-blur-fraction 0.9 --camera-blur-sigma 0.6 2.0 --camera-shot-range 1e-5 1e-1
               python scripts/export_bf16.py "$OUT/unet-real4" stdit_cli/weights/unet-real ;;
    # the real-noise stages carried over to the second white-noise stage (2026-12-04): the four stages'
    # difference (unet-real4 - unet-hw) added to unet-hw2 (scripts/graft_weights.py; on 2026-12-04 from the
    # shipped copies: REAL_OLD_BASE = weights/unet of commit 366ba15, REAL_TUNED = weights/unet-real,
    # HW_NEW = weights/unet), then a fresh 800-step cosine with the fourth stage's mix (bf16, 26 CPU minutes
    # on 2026-12-04), shipped in bf16: weights/unet-real on 2026-12-04, until unet-real-pairs
    unet-real-hw2) carry_real_over "${REAL_OLD_BASE:-$OUT/unet-hw}" "${REAL_TUNED:-$OUT/unet-real4}" "${HW_NEW:-$OUT/unet-hw2}" unet-real-graft unet-real5 107
                   python scripts/export_bf16.py "$OUT/unet-real5" stdit_cli/weights/unet-real ;;
    # the same carried over to the third white-noise stage (2026-12-04): (weights/unet-real - weights/unet)
    # as shipped before unet-hw3 (REAL_OLD_BASE, REAL_TUNED: commit b395486) added to unet-hw3 (HW3_NEW),
    # then a fresh 800-step cosine with the fourth stage's mix, seed 109. Not shipped: camera video +0.13 dB,
    # PolyU -0.07 (scripts/results/2026-12-04_noise_estimator_real.md)
    unet-real-hw3) carry_real_over "${REAL_OLD_BASE:-$OUT/unet-hw2}" "${REAL_TUNED:-$OUT/unet-real5}" "${HW3_NEW:-$OUT/unet-hw3}" unet-real-graft3 unet-real6 109 ;;
    # the same carried over to the GPU stage (2026-12-04): (weights/unet-real - weights/unet) as shipped
    # before unet-hw3 (REAL_OLD_BASE, REAL_TUNED: commit b395486) added to unet-hw-gpu (HWG_NEW), then a
    # fresh 800-step cosine with the fourth stage's mix, seed 111. Not shipped: camera video +0.18 dB, PolyU
    # -0.13 (every camera; scripts/results/2026-12-04_noise_estimator_real.md)
    unet-real-hwgpu) carry_real_over "${REAL_OLD_BASE:-$OUT/unet-hw2}" "${REAL_TUNED:-$OUT/unet-real5}" "${HWG_NEW:-$OUT/unet-hw-gpu}" unet-real-graftgpu unet-real7 111 ;;
    # the shipped real-noise unet (weights/unet-real since 2026-12-04): unet-real5 (REAL_INIT; as run, the
    # bf16 weights/unet-real it shipped as) tuned with real noise: a fresh 500-step cosine at lr 1e-4,
    # seed 113, with the fourth stage's camera mix, and 25% of the clips still crops of PolyU's real noisy
    # photos with their references (two cameras, Canon5D2 and NikonD800, as for the level estimator; the
    # other three only validate). 15 CPU minutes in bf16. PolyU 37.39 -> 38.29 dB (never-trained cameras
    # 38.14 -> 38.97), camera video 29.45 -> 29.43 (scripts/results/2026-12-04_real_pairs.md)
    unet-real-pairs) fit unet-real-pairs unet halfres-wide 500 4 128 1e-4 113 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                       --init-from "${REAL_INIT:-$OUT/unet-real5}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 --checkpoint-every 100 \
                       --camera-fraction 0.7 "${camera_mix[@]}" "${real_pairs[@]}"
                     python scripts/export_bf16.py "$OUT/unet-real-pairs" stdit_cli/weights/unet-real ;;
    # the shipped real-noise unet from 2026-12-04 evening until unet-real-cfa, once white noise went to the Gaussian weights
    # with no number given (stdit_cli/pipeline/noise_kind.py): from unet-real-pairs (REALCAM_INIT; that run
    # started from its shipped bf16 copy, REALCAM_INIT=stdit_cli/weights/unet-real), 500 steps without
    # white-noise clips at lr 8e-5, seed 181, the rest of the unet-real-pairs mix
    unet-real-cam) fit unet-real-cam unet halfres-wide 500 4 128 8e-5 181 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                     --init-from "${REALCAM_INIT:-$OUT/unet-real-pairs}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 --checkpoint-every 100 \
                     --camera-fraction 1.0 "${camera_mix[@]}" "${real_pairs[@]}"
                   python scripts/export_bf16.py "$OUT/unet-real-cam" stdit_cli/weights/unet-real ;;
    # the shipped real-noise unet since 2026-12-04 night: unet-real-cam (REALCFA_INIT; as run, its shipped
    # bf16 copy stdit_cli/weights/unet-real) 500 more steps at lr 8e-5, seed 191, the same mix with each
    # camera clip's Bayer phase drawn from the four (--camera-random-cfa): the 2x2 stem folds each Bayer
    # block into channels, and trained on one phase the model took clean texture for demosaiced noise
    # (clean footage +1.1 to +1.3 dB from its input; scripts/results/2026-12-04_real_cfa.md)
    unet-real-cfa) fit unet-real-cfa unet halfres-wide 500 4 128 8e-5 191 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                     --init-from "${REALCFA_INIT:-$OUT/unet-real-cam}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 --checkpoint-every 100 \
                     --camera-fraction 1.0 --camera-random-cfa "${camera_mix[@]}" "${real_pairs[@]}"
                   python scripts/export_bf16.py "$OUT/unet-real-cfa" stdit_cli/weights/unet-real ;;
    # the shipped real-noise unet since 2026-12-05: unet-real-cfa (REALCLEAN_INIT; as run, its shipped bf16 copy
    # stdit_cli/weights/unet-real) 500 more steps at lr 8e-5, seed 227, the same mix with 15% of the camera clips
    # left clean but labelled with a level of 3-10 (--camera-clean-fraction): the learned level reads clean texture
    # as noise of 3-10, and the weights then smoothed it. Shipped half and half with where it started
    # (scripts/graft_weights.py --alpha 0.5): clean footage +0.2 to +1.2 dB from its input, camera video -0.05,
    # PolyU the same (scripts/results/2026-12-05_real_clean_label.md)
    unet-real-clean) fit unet-real-clean unet halfres-wide 500 4 128 8e-5 227 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                       --init-from "${REALCLEAN_INIT:-$OUT/unet-real-cfa}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                       --checkpoint-every 100 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
                       --camera-clean-level 3 10 "${camera_mix[@]}" "${real_pairs[@]}"
                     python scripts/export_bf16.py "$OUT/unet-real-clean" "$OUT/unet-real-clean-bf16"
                     python scripts/graft_weights.py --old-base "${REALCLEAN_INIT:-$OUT/unet-real-cfa}" --new-base "${REALCLEAN_INIT:-$OUT/unet-real-cfa}" \
                       --tuned "$OUT/unet-real-clean-bf16" --alpha 0.5 --bf16 --out stdit_cli/weights/unet-real ;;
    # phones' colour blotches, the shipped real-noise weights since 2026-12-07: from the weights shipped before
    # (REALBLOTCH_INIT; as run, stdit_cli/weights/unet-real as of commit 766e9f8), unet-real-clean's mix with half the
    # blurred-colour camera clips keeping their colour noise's amplitude (x 0.6-1.5: what a phone leaves in low light;
    # the level estimator was taught the same the night before), 500 steps at lr 8e-5, seed 251 (8 CPU minutes), shipped
    # half and half with where it started: camera video +0.06 dB, stills +0.12, PolyU +0.03 (worst crop +0.05), clean
    # footage +0.7 dB nearer its input, phone-like -0.01 (scripts/results/2026-12-07_real_blotch.md)
    # heavy phone noise (2026-12-07, measured, not shipped: scripts/results/2026-12-07_phone_still.md): the shipped
    # real-noise weights, 400 steps with the cameras' shot gain drawn in 3e-3..2e-1 (the stage's 1e-5..1e-1 put an
    # eighth of the clips above a night phone's 3e-2), fp32 on the 2-core Zen 3, stopped at its step-300 checkpoint
    # (phone-like stills +0.14 dB dim, but PolyU 73 of 100 above nlmeans' oracle and camera video -0.33: it forgets light noise)
    unet-real-heavy) real_shot_stage unet-real-heavy "${REALHEAVY_INIT:-stdit_cli/weights/unet-real}" 400 257 30 3e-3 2e-1 \
                       --stop-at $(( 300 * STEPS_SCALE )) ;;
    # the same with the light end kept (2026-12-07): shot gain 1e-5..2e-1, a 200-step cosine, seed 259 (the heavy
    # stage above forgot light noise); measured, not shipped: camera video level, heavy phone-like stills -0.14 to -0.17
    unet-real-wide) real_shot_stage unet-real-wide "${REALWIDE_INIT:-stdit_cli/weights/unet-real}" 200 259 20 1e-5 2e-1 ;;
    unet-real-blotch) mkdir -p "$OUT/unet-real-blotch-init"
                      cp "${REALBLOTCH_INIT:-stdit_cli/weights/unet-real}"/{config.json,diffusion_pytorch_model.safetensors,scheduler_config.json,stdit.json} \
                        "$OUT/unet-real-blotch-init/"
                      fit unet-real-blotch unet halfres-wide 500 4 128 8e-5 251 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                        --init-from "$OUT/unet-real-blotch-init" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                        --checkpoint-every 100 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
                        --camera-clean-level 3 10 "${camera_mix[@]}" "${real_pairs[@]}" --camera-blotch-fraction 0.5
                      python scripts/export_bf16.py "$OUT/unet-real-blotch" "$OUT/unet-real-blotch-bf16"
                      python scripts/graft_weights.py --old-base "$OUT/unet-real-blotch-init" --new-base "$OUT/unet-real-blotch-init" \
                        --tuned "$OUT/unet-real-blotch-bf16" --alpha 0.5 --bf16 --out stdit_cli/weights/unet-real ;;
    # phones' sharpening (2026-12-06): from the shipped real-noise weights (REALSHARP_INIT), unet-real-clean's mix
    # with 40% of the camera clips sharpened after the noise (an unsharp mask on luma, amount 0.2-1.0, radius
    # 0.7-1.5 px), their target sharpened alike; 500 steps at lr 8e-5, seed 241
    unet-real-sharp) fit unet-real-sharp unet halfres-wide 500 4 128 8e-5 241 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                       --init-from "${REALSHARP_INIT:-stdit_cli/weights/unet-real}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                       --checkpoint-every 100 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
                       --camera-clean-level 3 10 "${camera_mix[@]}" "${real_pairs[@]}" --camera-sharpen-fraction 0.4
                     python scripts/export_bf16.py "$OUT/unet-real-sharp" "$OUT/unet-real-sharp-bf16" ;;
    # black-and-white camera noise (2026-12-06; weights/unet-real-gray, what a gray video with no number runs unless its
    # noise reads as white): from the shipped real-noise weights (REALGRAY_INIT), unet-real-clean's mix with every
    # camera clip made gray after the noise and before JPEG (an infrared night camera's video), the target gray alike,
    # each labelled with the level `stdit denoise` reads on it (the estimator reads heavy gray noise at half its RMS);
    # no real pairs (colour photos); 600 steps at lr 1e-4, seed 251. (Gray as 30% of unet-real-clean's mix, labelled
    # with the RMS, lost 0.14 dB on colour camera video: scripts/results/2026-12-06_gray_camera.md). The labels come from
    # the estimator shipped on 2026-12-04, which the gray weights carry (level-estimator/) and read videos with; with the
    # estimator of 2026-12-07 (GRAY_LEVEL_ESTIMATOR=stdit_cli/weights/noise-estimator) they come out level on gray video,
    # night +0.1 (--fast: -0.1, night +0.6), and 0.8 dB further from clean gray footage (2026-12-07_blotch_estimator.md)
    unet-real-gray) fit unet-real-gray unet halfres-wide 600 4 128 1e-4 251 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                      --init-from "${REALGRAY_INIT:-stdit_cli/weights/unet-real}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                      --checkpoint-every 100 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
                      --camera-clean-level 3 10 "${camera_mix[@]}" --camera-gray-fraction 1.0 --camera-gray-level learned \
                      --level-estimator "${GRAY_LEVEL_ESTIMATOR:-stdit_cli/weights/unet-real-gray/level-estimator}"
                    python scripts/export_bf16.py "$OUT/unet-real-gray" stdit_cli/weights/unet-real-gray ;;
    # the same with PolyU's pairs of two cameras made gray too (2026-12-06; real sensors' noise, and stills, whose
    # frames share their noise), from unet-real-gray (REALGRAYP_INIT), 400 steps at lr 8e-5, seed 263
    unet-real-gray-pairs) fit unet-real-gray-pairs unet halfres-wide 400 4 128 8e-5 263 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                      --init-from "${REALGRAYP_INIT:-$OUT/unet-real-gray}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                      --checkpoint-every 100 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
                      --camera-clean-level 3 10 "${camera_mix[@]}" --camera-gray-fraction 1.0 --camera-gray-level learned "${real_pairs[@]}"
                    python scripts/export_bf16.py "$OUT/unet-real-gray-pairs" "$OUT/unet-real-gray-pairs-bf16" ;;
    # camera noise stored as phones store video (2026-12-05): from the shipped real-noise weights (REALH264_INIT,
    # default the unet-real-clean stage's average), unet-real-clean's mix with half the camera clips x264-encoded
    # in 4:2:0 at CRF 16-28 instead of JPEG, 500 steps at lr 8e-5, seed 239. Not shipped: camera video within 0.03 dB
    # of the shipped weights, alone or averaged with them (scripts/results/2026-12-05_real_h264.md)
    unet-real-h264) fit unet-real-h264 unet halfres-wide 500 4 128 8e-5 239 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                      --init-from "${REALH264_INIT:-$OUT/unet-real-avg}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                      --checkpoint-every 100 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
                      --camera-clean-level 3 10 "${camera_mix[@]}" "${real_pairs[@]}" --camera-h264-fraction 0.5 ;;
    # the real-noise stages carried over to the GPU-trained white-noise weights (2026-12-04): (weights/unet-real
    # - weights/unet-hw2, the base its stages started from; REAL_OLD_BASE, REAL_TUNED: weights/unet of commit
    # f0a02f7 and weights/unet-real as shipped by unet-real-cfa) added to unet-hw-gpu2 (HWG2_NEW; as run, the
    # shipped weights/unet), then a fresh 1500-step cosine at lr 1e-4, seed 197, with unet-real-cfa's mix.
    # Not shipped: heavier smoothing, not a better model (camera video +0.11 dB, night +0.30; PolyU +0.01;
    # mixed-phase camera stills -0.05, bright -0.33; clean foliage 37.94; scripts/results/2026-12-05_real_gpu2.md)
    unet-real-gpu2) python scripts/graft_weights.py --old-base "${REAL_OLD_BASE:-$OUT/unet-hw2}" --tuned "${REAL_TUNED:-$OUT/unet-real-cfa}" \
                      --new-base "${HWG2_NEW:-$OUT/unet-hw-gpu2}" --out "$OUT/unet-real-graftgpu2"
                    fit unet-real-gpu2 unet halfres-wide 1500 4 128 1e-4 197 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                      --init-from "$OUT/unet-real-graftgpu2" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 --checkpoint-every 250 \
                      --camera-fraction 1.0 --camera-random-cfa "${camera_mix[@]}" "${real_pairs[@]}" ;;
    # 64 px crops, then fine-tunes on 128 and 192 px crops: GroupNorm statistics closer to whole
    # frames' (Vid4 20 frames, sigma 10/25/50: 33.35/27.72/23.38 -> 33.46/27.91/23.61 -> 33.50/27.96/23.70);
    # then 192 px again with the loss weighted towards high noise (-> 33.47/28.02/23.88);
    # then the same weights without the up path's attention (preset small-lean, 9% faster), tuned again
    # (-> 33.50/28.07/23.96), then on 240 px crops, the height of the downscaled DAVIS (-> 33.52/28.12/24.07)
    unet)     fit unet unet small 6000 16 64 1e-3 0 "${all_data[@]}"
              fit unet-ft128 unet small 3000 4 128 2e-4 7 "${all_data[@]}" --init-from "$OUT/unet"
              fit unet-ft192 unet small 2000 2 192 1e-4 11 "${davis[@]}" --init-from "$OUT/unet-ft128" --warmup $(( 100 * STEPS_SCALE ))
              fit unet-ft192w unet small 1500 2 192 1e-4 13 "${davis[@]}" --init-from "$OUT/unet-ft192" --warmup $(( 100 * STEPS_SCALE )) \
                --sigma-weight-power 0.6
              fit unet-lean unet small-lean 1500 2 192 1e-4 17 "${davis[@]}" --init-from "$OUT/unet-ft192w" --init-partial \
                --warmup $(( 100 * STEPS_SCALE )) --sigma-weight-power 0.6
              fit unet-lean240 unet small-lean 2000 2 240 1e-4 19 "${davis[@]}" --init-from "$OUT/unet-lean" \
                --warmup $(( 100 * STEPS_SCALE )) --sigma-weight-power 0.6
              ship unet-lean240 unet ;;
    # batch 16 on a GPU, from the CPU stages' result (or the shipped copy of it: UNET_INIT)
    unet-gpu) fit unet-gpu unet small-lean "${GPU_STEPS:-2400}" "${GPU_BATCH:-16}" 240 "${GPU_LR:-2e-4}" 23 "${davis[@]}" --init-from "${UNET_INIT:-$OUT/unet-lean240}" \
                --warmup 200 --sigma-weight-power 0.6 --checkpoint-every 1000 --val-every 500
              ship unet-gpu unet ;;
    # from the GPU stage's weights (UNET_INIT, default its run), two more stages on the CPU with the
    # loss weighted less towards high noise (power 0.3: sigma 10 is the gap to ffmpeg's bm3d)
    unet-tune) fit unet-tune unet small-lean 3600 2 240 1e-4 37 "${davis[@]}" --init-from "${UNET_INIT:-$OUT/unet-gpu}" \
                 --warmup $(( 100 * STEPS_SCALE )) --sigma-weight-power 0.3 --checkpoint-every 600 --val-every 600
               fit unet-tune2 unet small-lean 3000 2 240 1e-4 41 "${davis[@]}" --init-from "$OUT/unet-tune" \
                 --warmup $(( 100 * STEPS_SCALE )) --sigma-weight-power 0.3 --checkpoint-every 600 --val-every 600
               ship unet-tune2 unet ;;
    # from the CPU stages' unet (UNET_INIT, default their run) with a full-resolution head (preset
    # small-lean-fullres, --init-partial: the head is new; its last conv starts at zero, so the model
    # starts as the one it comes from), trained with the rest on the CPU
    unet-head) fit unet-head unet small-lean-fullres 3000 2 240 1e-4 43 "${davis[@]}" --init-from "${UNET_INIT:-$OUT/unet-tune2}" --init-partial \
                 --warmup $(( 100 * STEPS_SCALE )) --sigma-weight-power 0.3 --checkpoint-every 500 --val-every 500
               ship unet-head unet ;;
    # the next GPU stage (not run yet: no GPU was lent since the head was added): the shipped
    # architecture, head included, from the head stage's unet (UNET_INIT, default its run) at GPU_BATCH
    unet-head-gpu) fit unet-head-gpu unet small-lean-fullres "${GPU_STEPS:-2400}" "${GPU_BATCH:-16}" 240 "${GPU_LR:-2e-4}" 53 "${davis[@]}" \
                     --init-from "${UNET_INIT:-$OUT/unet-head}" --warmup 200 --sigma-weight-power 0.3 --checkpoint-every 1000 --val-every 500
                   ship unet-head-gpu unet ;;
    # the --fast checkpoint (preset fast: lower levels 32/64 channels, 0.65x the FLOPs), derived from
    # the unet (UNET_INIT, default the GPU stage's run) with --init-partial: the top level copied, the
    # rest learnt on 128 px crops of everything, then on 240 px crops of DAVIS
    unet-fast) fit unet-fast unet fast 2500 4 128 5e-4 29 "${all_data[@]}" --init-from "${UNET_INIT:-$OUT/unet-gpu}" --init-partial \
                 --sigma-weight-power 0.6
               fit unet-fast240 unet fast 1500 2 240 1e-4 31 "${davis[@]}" --init-from "$OUT/unet-fast" \
                 --warmup $(( 100 * STEPS_SCALE )) --sigma-weight-power 0.6
               ship unet-fast240 unet-fast ;;
    # the --fast checkpoint tuned on the default's material (an experiment of 2026-12-04 evening): from
    # unet-fast240 (FAST_INIT; that run started from the shipped copy, FAST_INIT=stdit_cli/weights/unet-fast),
    # native-scale footage without the suite's clips, the content mix with 30% smooth clips, a fresh
    # 1500-step cosine at lr 1e-4, seed 173, bf16
    unet-fast-hw) fit unet-fast-hw unet fast 1500 4 128 1e-4 173 "${native[@]}" "${content[@]}" --smooth-fraction 0.3 \
                    --init-from "${FAST_INIT:-$OUT/unet-fast240}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16 --checkpoint-every 250 ;;
    # the --fast checkpoint since 2026-12-05 (preset halfres-fast: the default's 2x2 stem and levels, 16/32/64
    # channels): started from the default's weights sliced to those channels (scripts/slim_weights.py; each
    # GroupNorm group keeps its first channels), then a 7500-step cosine at lr 5e-4 on the default's
    # material with 40% smooth clips, seed 191, bf16; 66 minutes on the 2-core CPU (FAST_TEACHER: the weights
    # sliced, default the shipped unet, which the stage unet-hw-gpu2 writes)
    unet-fast-hr) python scripts/slim_weights.py "${FAST_TEACHER:-stdit_cli/weights/unet}" halfres-fast --out "$OUT/unet-fast-hr-init"
                  fit unet-fast-hr unet halfres-fast 7500 4 128 5e-4 191 "${native[@]}" "${content[@]}" --smooth-fraction 0.4 \
                    --init-from "$OUT/unet-fast-hr-init" --precision bf16 ;;
    # its second stage: a fresh 2500-step cosine at lr 2e-4 (50-step warm-up), seed 193, 24 minutes
    unet-fast-hr2) fit unet-fast-hr2 unet halfres-fast 2500 4 128 2e-4 193 "${native[@]}" "${content[@]}" --smooth-fraction 0.4 \
                     --init-from "${FAST_HR_INIT:-$OUT/unet-fast-hr}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16 ;;
    # its third stage: another fresh cosine, 4000 steps at lr 2e-4, half of the clips flat or
    # smooth (the second stage's --fast was 1.6-4.0 dB below nlmeans there), seed 197, 38 minutes
    unet-fast-hr3) fit unet-fast-hr3 unet halfres-fast 4000 4 128 2e-4 197 "${native[@]}" "${content[@]}" --smooth-fraction 0.5 \
                     --init-from "${FAST_HR3_INIT:-$OUT/unet-fast-hr2}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16 ;;
    # its fourth stage: a fresh 2500-step cosine at lr 1.5e-4, the same material, seed 199, 24 minutes
    # (weights/unet-fast on 2026-12-05 until the fifth)
    unet-fast-hr4) fit unet-fast-hr4 unet halfres-fast 2500 4 128 1.5e-4 199 "${native[@]}" "${content[@]}" --smooth-fraction 0.5 \
                     --init-from "${FAST_HR4_INIT:-$OUT/unet-fast-hr3}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16 ;;
    # its fifth stage: a fresh 3000-step cosine at lr 1.2e-4, the same material, seed 211, 33 minutes
    # (weights/unet-fast on 2026-12-05 until the sixth)
    unet-fast-hr5) fit unet-fast-hr5 unet halfres-fast 3000 4 128 1.2e-4 211 "${native[@]}" "${content[@]}" --smooth-fraction 0.5 \
                     --init-from "${FAST_HR5_INIT:-$OUT/unet-fast-hr4}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16 ;;
    # its sixth stage: a fresh 3000-step cosine at lr 1e-4, the same material, seed 223, 30 minutes
    unet-fast-hr6) fit unet-fast-hr6 unet halfres-fast 3000 4 128 1e-4 223 "${native[@]}" "${content[@]}" --smooth-fraction 0.5 \
                     --init-from "${FAST_HR6_INIT:-$OUT/unet-fast-hr5}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16
                   ship unet-fast-hr6 unet-fast ;;
    # its seventh stage, shipped (2026-12-05): a fresh 2500-step cosine at lr 8e-5, seed 227, 21 minutes;
    # run from the sixth stage's shipped weights (FAST_HR7_INIT=stdit_cli/weights/unet-fast, the same file)
    unet-fast-hr7) fit unet-fast-hr7 unet halfres-fast 2500 4 128 8e-5 227 "${native[@]}" "${content[@]}" --smooth-fraction 0.5 \
                     --init-from "${FAST_HR7_INIT:-$OUT/unet-fast-hr6}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16
                   ship unet-fast-hr7 unet-fast ;;  # weights/unet-fast until unet-fast-gpu
    # an eighth stage (2026-12-05, measured, not shipped: flat content up, texture down; scripts/results/2026-12-05_fast_halfres8.md):
    # 2500 steps at lr 6e-5 with 60% flat or smooth clips
    unet-fast-hr8) fit unet-fast-hr8 unet halfres-fast 2500 4 128 6e-5 229 "${native[@]}" "${content[@]}" --smooth-fraction 0.6 \
                     --init-from "${FAST_HR8_INIT:-$OUT/unet-fast-hr7}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16 ;;
    # distillation (2026-12-05, measured, not shipped: +0.07 dB at sigma 50, -0.03 at sigma 10;
    # scripts/results/2026-12-05_fast_distill.md): the seventh stage's recipe from its weights, seed 233,
    # with the default's prediction as 75% of the target (`stdit train --teacher`)
    unet-fast-kd) fit unet-fast-kd unet halfres-fast 2500 4 128 8e-5 233 "${native[@]}" "${content[@]}" --smooth-fraction 0.5 \
                     --init-from "${FAST_KD_INIT:-$OUT/unet-fast-hr7}" --warmup $(( 50 * STEPS_SCALE )) --precision bf16 \
                     --teacher "${FAST_TEACHER:-stdit_cli/weights/unet}" --teacher-weight 0.75 ;;
    # --fast's real-noise weights taught phones' colour blotches, what ships since 2026-12-07, as unet-real-blotch: from the
    # weights shipped before (FAST_BLOTCH_INIT; as run, stdit_cli/weights/unet-fast-real as of commit 8fe59f5), unet-fast-real2's
    # mix with --camera-blotch-fraction 0.5, 500 steps at lr 8e-5, seed 253 (4 CPU minutes), averaged half and half with its
    # start: camera video 29.27 -> 29.35 (night +0.25), phone-like +0.02, PolyU level (worst crop +0.07), stills -0.02,
    # clean footage 0.0-0.55 dB nearer its input (scripts/results/2026-12-07_real_blotch.md)
    unet-fast-real-blotch) mkdir -p "$OUT/unet-fast-real-blotch-init"
                           cp "${FAST_BLOTCH_INIT:-stdit_cli/weights/unet-fast-real}"/{config.json,diffusion_pytorch_model.safetensors,scheduler_config.json,stdit.json} \
                             "$OUT/unet-fast-real-blotch-init/"
                           fit unet-fast-real-blotch unet halfres-fast 500 4 128 8e-5 253 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                             --init-from "$OUT/unet-fast-real-blotch-init" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                             --checkpoint-every 100 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
                             --camera-clean-level 3 10 "${camera_mix[@]}" "${real_pairs[@]}" --camera-blotch-fraction 0.5
                           python scripts/export_bf16.py "$OUT/unet-fast-real-blotch" "$OUT/unet-fast-real-blotch-bf16"
                           python scripts/graft_weights.py --old-base "$OUT/unet-fast-real-blotch-init" --new-base "$OUT/unet-fast-real-blotch-init" \
                             --tuned "$OUT/unet-fast-real-blotch-bf16" --alpha 0.5 --bf16 --out "${FAST_BLOTCH_SHIP:-stdit_cli/weights/unet-fast-real}" ;;
    # real-noise weights for --fast (weights/unet-fast-real): the --fast weights fine-tuned on unet-real-clean's
    # camera-noise mix (every clip camera noise, 15% of them clean under a level label, PolyU pairs of two cameras)
    unet-fast-real) fit unet-fast-real unet halfres-fast 1500 4 128 1.5e-4 239 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                      --init-from "${FAST_REAL_INIT:-$OUT/unet-fast-hr7}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                      --checkpoint-every 250 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
                      --camera-clean-level 3 10 "${camera_mix[@]}" "${real_pairs[@]}"
                    python scripts/export_bf16.py "$OUT/unet-fast-real" stdit_cli/weights/unet-fast-real ;;
    # its second stage, what ships (2026-12-05): a fresh 1000-step cosine at lr 1e-4 from the first, the same mix
    unet-fast-real2) fit unet-fast-real2 unet halfres-fast 1000 4 128 1e-4 241 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                      --init-from "${FAST_REAL2_INIT:-$OUT/unet-fast-real}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                      --checkpoint-every 250 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
                      --camera-clean-level 3 10 "${camera_mix[@]}" "${real_pairs[@]}"
                    python scripts/export_bf16.py "$OUT/unet-fast-real2" "${FAST_REAL_SHIP:-stdit_cli/weights/unet-fast-real}" ;;
    # --fast on black-and-white camera noise (2026-12-06; weights/unet-fast-real-gray): unet-real-gray's recipe from
    # --fast's real-noise weights (FAST_GRAY_INIT), lr 1.5e-4, seed 257
    unet-fast-real-gray) fit unet-fast-real-gray unet halfres-fast 600 4 128 1.5e-4 257 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                           --init-from "${FAST_GRAY_INIT:-stdit_cli/weights/unet-fast-real}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                           --checkpoint-every 100 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
                           --camera-clean-level 3 10 "${camera_mix[@]}" --camera-gray-fraction 1.0 --camera-gray-level learned \
                           --level-estimator "${GRAY_LEVEL_ESTIMATOR:-stdit_cli/weights/unet-real-gray/level-estimator}"
                         python scripts/export_bf16.py "$OUT/unet-fast-real-gray" stdit_cli/weights/unet-fast-real-gray ;;
    # a third stage (2026-12-05, measured, not shipped: camera video 29.22 -> 29.27 dB, PolyU 37.94 -> 37.87;
    # scripts/results/2026-12-05_fast_real.md): a fresh 1000-step cosine at lr 8e-5 from the second, the same mix
    unet-fast-real3) fit unet-fast-real3 unet halfres-fast 1000 4 128 8e-5 251 "${native[@]}" "${content[@]}" --smooth-fraction 0.15 \
                      --init-from "${FAST_REAL3_INIT:-$OUT/unet-fast-real2}" --warmup $(( 30 * STEPS_SCALE )) --precision bf16 \
                      --checkpoint-every 250 --camera-fraction 1.0 --camera-random-cfa --camera-clean-fraction 0.15 \
                      --camera-clean-level 3 10 "${camera_mix[@]}" "${real_pairs[@]}"
                    python scripts/export_bf16.py "$OUT/unet-fast-real3" "$OUT/unet-fast-real3-bf16" ;;
    # one chunk of the GPU-class unet (preset gpu; the default on CUDA once stdit_cli/weights/unet-gpu
    # ships): GPU_STEPS steps that fit one 10-minute command, from the committed weights when they
    # ship (a short warm-up, a fresh optimiser: the weights are all a chunk brings back), then its
    # EMA weights in bf16 replace them. Every lent GPU adds a chunk to the same run.
    gpu-chunk) init=(); [ -f stdit_cli/weights/unet-gpu/config.json ] && init=(--init-from stdit_cli/weights/unet-gpu)
               fit gpu-chunk unet gpu "${GPU_STEPS:-3000}" "${GPU_BATCH:-16}" 192 "${GPU_LR:-3e-4}" "${GPU_SEED:-61}" "${gpu_material[@]}" \
                 "${content[@]}" "${init[@]}" --warmup 100 --checkpoint-every 1000
               python scripts/export_bf16.py "$OUT/gpu-chunk" stdit_cli/weights/unet-gpu ;;
    stdit)    fit stdit stdit small 1000 8 32 5e-4 1 "${all_data[@]}" && ship stdit stdit ;;
    # DiffuserSTDiT wraps an STDiT of the same configuration: its weights are the trained
    # STDiT's (run "stdit" first), re-saved through the wrapper
    diffuser) python scripts/stdit_to_diffuser.py "$OUT/stdit" "$OUT/diffuser" && ship diffuser diffuser ;;
    segdit)   fit segdit segdit small 2500 16 32 5e-4 3 "${all_data[@]}" && ship segdit segdit ;;
    *) echo "unknown model: $model" >&2; exit 2 ;;
  esac
done
