#!/usr/bin/env bash
# Copy the training material a lent GPU needs into DEST (default .gpudata, ignored by git) so that a
# device command can carry it (the working tree, wheels and carried folders travel in 64 MiB):
# the DAVIS training sequences (all but the validation suite's held-out clips), the held-out `dog`
# (its first 8 frames: the training runs' --val clip) and the first BSDS_STILLS (default 30) BSDS train stills.
#
#   scripts/stage_gpu_data.sh [DEST]        # then: DATA=DEST scripts/gpu_hw_stage.sh OUT
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
dest=${1:-.gpudata}
held_out=" blackswan car-shadow dog kite-surf scooter-black "  # scripts/validation_suite.py HELD_OUT_DAVIS
rm -rf "$dest"
mkdir -p "$dest/davis2016_val_480p" "$dest/bsds500/train"
for sequence in "$DATA"/davis2016_val_480p/*/; do
  name=$(basename "$sequence")
  if [[ $held_out != *" $name "* ]]; then
    cp -r "$sequence" "$dest/davis2016_val_480p/$name"
  fi
done
# the validation clip is the first 5 frames of dog (stdit_cli/train/loop.py ValidationClip)
mkdir -p "$dest/davis2016_val_480p/dog"
# sed reads its whole input (head would stop early, and under pipefail sort's SIGPIPE fails the script, exit 141)
find "$DATA/davis2016_val_480p/dog" -maxdepth 1 -type f -name '*.jpg' | sort | sed -n '1,8p' | xargs -I{} cp {} "$dest/davis2016_val_480p/dog/"
find "$DATA/bsds500/train" -maxdepth 1 -type f -name '*.jpg' | sort | sed -n "1,${BSDS_STILLS:-30}p" | xargs -I{} cp {} "$dest/bsds500/train/"
du -sh "$dest"
