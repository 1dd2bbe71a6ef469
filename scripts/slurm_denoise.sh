#!/usr/bin/env bash
# Denoise a list of videos with every GPU of every node of a Slurm allocation.
#
#   sbatch --nodes=2 --gpus-per-node=4 scripts/slurm_denoise.sh LIST OUT_DIR [stdit denoise options...]
#
# LIST holds one video path per line (absolute paths, or relative to the submission folder);
# OUT_DIR must be on a file system every node sees. One `torchrun` per node starts one process
# per GPU; stdit gives each process every WORLD_SIZE-th input of LIST (deterministic), each loads
# the model once on its own GPU, and rank 0 writes the merged report OUT_DIR/report.jsonl.
#
# Time limits and preemption: `--signal=TERM@120` asks Slurm for a SIGTERM two minutes before
# the end; stdit then drops the video in progress (no partial file), keeps the finished ones and
# writes what each rank did to OUT_DIR/report.rankN.jsonl, and this script requeues the job
# (REQUEUE=1, the default), whose rerun skips the finished outputs (--skip-existing), does the
# rest and writes the merged report.
#
# Environment: PYTHON (the interpreter with stdit installed, default python), NPROC (processes
# per node, default the GPUs Slurm gave the node, or 1), PORT (rendezvous port, default 29500),
# REQUEUE (1 or 0).
#
#SBATCH --job-name=stdit-denoise
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=1
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
#SBATCH --signal=TERM@120
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=stdit-denoise-%j.log
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: sbatch [options] $(basename "$0") LIST OUT_DIR [stdit denoise options...]" >&2
  exit 2
fi
list=$1
out_dir=$2
shift 2
[ -f "$list" ] || { echo "error: $list: no such file" >&2; exit 2; }
mkdir -p -- "$out_dir"

python=${PYTHON:-python}
nproc=${NPROC:-${SLURM_GPUS_ON_NODE:-1}}
nodes=${SLURM_JOB_NUM_NODES:-1}
head_node=$(scontrol show hostnames "${SLURM_JOB_NODELIST:-localhost}" | sed -n 1p)
port=${PORT:-29500}

echo "stdit: $nodes node(s) x $nproc process(es), list $list -> $out_dir (job ${SLURM_JOB_ID:-?}," \
  "restart ${SLURM_RESTART_COUNT:-0})" >&2

status=0
srun --ntasks-per-node=1 --kill-on-bad-exit=1 \
  "$python" -m torch.distributed.run --nnodes "$nodes" --nproc-per-node "$nproc" \
  --rdzv-backend c10d --rdzv-endpoint "$head_node:$port" --rdzv-id "${SLURM_JOB_ID:-stdit}" \
  -m stdit_cli denoise --inputs-from "$list" -o "$out_dir/" --report "$out_dir/report.jsonl" \
  --skip-existing --quiet "$@" || status=$?

# A stopped batch leaves its per-rank reports (the merge happens only when every rank finished);
# inputs marked interrupted or not_started there are what a requeued run will do.
stopped=0
if grep -qsE '"status": "(interrupted|not_started)"' "$out_dir"/report.rank*.jsonl; then stopped=1; fi
if [ "$stopped" = 1 ] && [ "${REQUEUE:-1}" = 1 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
  echo "stdit: the batch was stopped before the end; requeueing job $SLURM_JOB_ID to finish it" >&2
  scontrol requeue "$SLURM_JOB_ID"
fi
exit "$status"
