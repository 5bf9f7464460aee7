#!/bin/bash
# LeanRoute batch runs as a SLURM job array: array task I runs shard I of N.
# Map data © OpenStreetMap contributors.
#
#   sbatch docs/farm/slurm-array.sh
#   JOBS=/shared/routes/jobs.csv OUT=/shared/routes/out sbatch docs/farm/slurm-array.sh
#
# The array is numbered from 1, as shards are: --array=1-N runs shards 1/N to N/N.
# Every task reads the same jobs file and may write to the same --out folder (each shard
# keeps its own checkpoint and report). A task that is requeued resumes from its checkpoint.
# See docs/batch.md, "Farms".
#
#SBATCH --job-name=leanroute-batch
#SBATCH --array=1-4
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=02:00:00
#SBATCH --output=leanroute-batch-%A_%a.log

set -euo pipefail

# The Python that has LeanRoute and the bpy module installed. With the Blender program
# instead, replace the last command by:
#   exec blender -b --factory-startup --python /opt/leanroute/cli/blender_script.py -- batch …
PYTHON=${PYTHON:-/opt/leanroute/.venv/bin/python}
JOBS=${JOBS:-/shared/routes/jobs.csv}
OUT=${OUT:-/shared/routes/out}

# A shard number is only right when the array runs 1..N with no gaps.
: "${SLURM_ARRAY_TASK_ID:?submit this with sbatch, as an array job}"
if [[ "${SLURM_ARRAY_TASK_MIN:-1}" != 1 || "${SLURM_ARRAY_TASK_MAX:-}" != "${SLURM_ARRAY_TASK_COUNT:-}" ]]; then
    echo "leanroute: number the array 1-N with no gaps (--array=1-4), not" \
        "${SLURM_ARRAY_TASK_MIN:-?}-${SLURM_ARRAY_TASK_MAX:-?} (${SLURM_ARRAY_TASK_COUNT:-?} tasks)" >&2
    exit 2
fi

# --hard-budget auto follows the memory SLURM gives the task (--mem, where SLURM enforces
# it with cgroups).
exec "$PYTHON" -m leanroute batch "$JOBS" --out "$OUT" \
    --shard "${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}"
