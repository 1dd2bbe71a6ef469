#!/usr/bin/env bash
# Denoise every video below IN_DIR into OUT_DIR, keeping the folder structure.
#
#   scripts/denoise_dir.sh IN_DIR OUT_DIR [stdit denoise options...]
#
# IN_DIR/a/b/clip.mov becomes OUT_DIR/a/b/clip.denoised.mp4. Videos are found recursively by
# extension, case-insensitively (EXTENSIONS, default below); hidden stdit temporary files and
# earlier results (*.denoised.mp4) are not inputs, nor is anything inside OUT_DIR. Any file name
# works: spaces, unicode, quotes, even newlines. Extra options go to `stdit denoise` as they are
# (--model, --sigma, --lossless, --device ...).
#
# One model load for the whole folder. Reruns resume: outputs that exist and are complete are
# skipped (--skip-existing), unless --overwrite is among the options. The report, one JSON line
# per video, is OUT_DIR/stdit-report.jsonl (REPORT=path to change).
#
# Environment: STDIT (the command, default "stdit"; e.g. STDIT="python -m stdit_cli"),
# EXTENSIONS (space-separated), REPORT.
# Exit status: 0 every video done, 1 any failed (or no video found), 2 usage error,
# 128+N when stopped by signal N (130 Ctrl-C, 143 SIGTERM); the finished outputs are kept.
set -euo pipefail

EXTENSIONS=${EXTENSIONS:-"mp4 m4v mov mkv webm avi mts m2ts ts mpg mpeg wmv flv 3gp"}

usage() {
  echo "usage: $(basename "$0") IN_DIR OUT_DIR [stdit denoise options...]" >&2
  exit 2
}

[ $# -ge 2 ] || usage
in_dir=$1
out_dir=$2
shift 2
[ -d "$in_dir" ] || { echo "error: $in_dir: no such folder" >&2; exit 2; }
mkdir -p -- "$out_dir"
in_abs=$(cd -- "$in_dir" && pwd -P)
out_abs=$(cd -- "$out_dir" && pwd -P)
[ "$in_abs" != "$out_abs" ] || { echo "error: OUT_DIR must not be IN_DIR" >&2; exit 2; }

read -r -a stdit <<<"${STDIT:-stdit}"
report=${REPORT:-$out_abs/stdit-report.jsonl}

# find's -path takes a pattern: escape the glob characters of the output folder's name.
out_pattern=$(printf '%s' "$out_abs" | sed 's/[][*?\\]/\\&/g')
name_tests=()
for ext in $EXTENSIONS; do
  name_tests+=(-o -iname "*.$ext")
done
name_tests=("${name_tests[@]:1}")

list=$(mktemp "${TMPDIR:-/tmp}/stdit-inputs.XXXXXX")
trap 'rm -f -- "$list"' EXIT
count=0
newline_names=()  # cannot go through a line-based list: passed as arguments instead
while IFS= read -r -d '' path; do
  count=$((count + 1))
  case $path in
    *$'\n'*) newline_names+=("$path") ;;
    *) printf '%s\n' "$path" >>"$list" ;;
  esac
done < <(find "$in_abs" -path "$out_pattern" -prune -o \( -type f -o -type l \) \( "${name_tests[@]}" \) \
  ! -name '.*.stdit-tmp-*' ! -iname '*.denoised.mp4' -print0 | LC_ALL=C sort -z)

if [ "$count" -eq 0 ]; then
  echo "error: no videos under $in_dir (extensions: $EXTENSIONS)" >&2
  exit 1
fi

resume=(--skip-existing)
for option in "$@"; do
  if [ "$option" = "--overwrite" ]; then resume=(); fi
done

echo "stdit: $count videos under $in_dir -> $out_dir (report: $report)" >&2
# Hand the list over on stdin and become stdit (exec): signals reach it directly, and its exit
# status is this script's. The list file is removed first; the open descriptor keeps it readable.
exec 3<"$list"
rm -f -- "$list"
trap - EXIT
exec "${stdit[@]}" denoise ${newline_names[@]+"${newline_names[@]}"} --inputs-from - \
  -o "$out_abs/" --relative-to "$in_abs" --report "$report" ${resume[@]+"${resume[@]}"} "$@" <&3 3<&-
