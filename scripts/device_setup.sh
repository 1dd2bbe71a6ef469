# shellcheck shell=bash
# Source this first in a device command on a lent, bare GPU machine (no network; its python3 holds
# torch, numpy, click, rich, imageio, safetensors, huggingface_hub but not diffusers, decord or
# imageio-ffmpeg):   . scripts/device_setup.sh
#
# Packages travel in carried folders named .whl*: wheels (*.whl, installed with pip) or wheels
# unpacked and xz-compressed (*.tar.xz, unpacked as they are: decord and imageio-ffmpeg, whose
# wheels hold shared libraries and an ffmpeg binary, travel in 29 MB that way instead of 41 MB).
# Made here with:
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux2010_x86_64 --platform manylinux_2_28_x86_64 -d /tmp/whl decord==0.6.0 imageio-ffmpeg==0.5.1
#   for w in /tmp/whl/*.whl; do d=$(mktemp -d); unzip -q "$w" -d "$d"; tar cf - -C "$d" . | xz -9e -T2 > .whlv/$(basename "$w" .whl).tar.xz; done
# Weights moved out of the tree to keep a call under 64 MiB travel in .wts/NAME and are put back
# into stdit_cli/weights/NAME. The package runs uninstalled (PYTHONPATH), with a `stdit` on PATH.
site=/tmp/site
mkdir -p "$site" /tmp/bin
for archive in .whl*/*.tar.xz; do
  [ -e "$archive" ] && tar xJf "$archive" -C "$site"
done
wheels=(.whl*/*.whl)
[ -e "${wheels[0]}" ] && python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" --upgrade "${wheels[@]}"
python3 -m compileall -q -j 0 "$site" > /dev/null  # byte-compiled once here, not inside the first timed run
export PYTHONPATH=$site:$PWD
ln -sfn ../configs stdit_cli/configs  # where an installed package finds its presets
for weights in .wts/*/; do
  [ -d "$weights" ] && rm -rf "stdit_cli/weights/$(basename "$weights")" && cp -r "$weights" "stdit_cli/weights/$(basename "$weights")"
done
printf '#!/bin/sh\nexec python3 -m stdit_cli "$@"\n' > /tmp/bin/stdit
chmod +x /tmp/bin/stdit
export PATH=/tmp/bin:$PATH PYTHONUNBUFFERED=1
python3 -c 'import diffusers, torch; print("device setup: torch", torch.__version__, "diffusers", diffusers.__version__)'
