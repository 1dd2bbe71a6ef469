#!/usr/bin/env bash
# Trim the working tree for a device command and put it back. A device command carries the tree
# (tracked files), the carried folders and the wheels in 64 MiB; the shipped weights alone are 38 MiB.
#
#   scripts/device_tree.sh out    # bf16 copies of weights/unet and weights/unet-fast into .wts (what
#                                 # scripts/device_setup.sh puts back there), then every weights folder but
#                                 # the noise estimator's, the sample video and the result JSONs to STASH
#   scripts/device_tree.sh back   # all of it back where it was (git status as before)
#
# STASH defaults to /tmp/stdit-device-stash; `out` refuses to run over a stash not yet put back.
# Prints what would travel with .gpudata (scripts/stage_gpu_data.sh), .whl* and .wts.
set -euo pipefail
cd "$(dirname "$0")/.."
stash=${STASH:-/tmp/stdit-device-stash}
python=${PYTHON:-python}

case ${1:-} in
  out)
    [ ! -e "$stash" ] || { echo "device_tree.sh: $stash exists: run 'device_tree.sh back' first" >&2; exit 1; }
    rm -rf .wts
    mkdir -p .wts
    for model in unet unet-fast; do
      "$python" scripts/export_bf16.py "stdit_cli/weights/$model" ".wts/$model"
    done
    mkdir -p "$stash/weights" "$stash/results"
    for folder in stdit_cli/weights/*/; do
      [ "$(basename "$folder")" = noise-estimator ] || mv "$folder" "$stash/weights/"
    done
    [ ! -d stdit_cli/samples ] || mv stdit_cli/samples "$stash/samples"
    find scripts/results -maxdepth 1 -name '*.json' -exec mv {} "$stash/results/" \;
    # du answers 1 for the files just moved out (still in git's index): their total counts what stays
    tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1 || true)
    carried=$(du -cb .gpudata .whl* .wts 2>/dev/null | tail -1 | cut -f1 || true)
    echo "tree $(( tree / 1048576 )) MiB + carried $(( carried / 1048576 )) MiB (of 64); then: scripts/device_tree.sh back"
    ;;
  back)
    [ -d "$stash" ] || { echo "device_tree.sh: nothing stashed at $stash" >&2; exit 1; }
    for folder in "$stash"/weights/*/; do
      mv "$folder" stdit_cli/weights/
    done
    [ ! -d "$stash/samples" ] || mv "$stash/samples" stdit_cli/samples
    find "$stash/results" -maxdepth 1 -name '*.json' -exec mv {} scripts/results/ \;
    rm -rf "$stash"
    git status --short
    ;;
  *)
    echo "usage: scripts/device_tree.sh out|back" >&2
    exit 2
    ;;
esac
