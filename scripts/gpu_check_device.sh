#!/bin/bash
# The GPU check on the lent device machine, in one `run` call (README, "GPU check"). That machine reaches no
# package index: first, here, `make gpu-wheels` (the wheels its image lacks, trackcore's own included, into
# the git-ignored outputs/device_wheels), then through the device tool:
#   run(command="bash scripts/gpu_check_device.sh", carry=["outputs/device_wheels"], timeout_s=600)
# It installs the wheels into /tmp/site (no index, no dependencies: the image brings the rest), runs
# scripts/gpu_check.py with the device's budget (the GPU tests, 3 timed events per family (+1 warm-up), the
# `tiny` quick comparison; each part stopped after PART_TIMEOUT s) and copies the reports into $OUT (at most
# 8 files come back): gpu_check.md/.json, the bench table and JSON (and the density one's table), the
# comparison's report and all the logs as one archive. Extra arguments go to gpu_check.py (e.g. --compare-data small).
set -u
cd "$(dirname "$0")/.."
WHEELS=${WHEELS:-outputs/device_wheels}
DEST=${OUT:-outputs/gpu_check_device}
CHECK=${CHECK_DIR:-/tmp/gpu_check}
SITE=${SITE:-/tmp/site}
mkdir -p "$DEST"
if ! ls "$WHEELS"/trackcore-*.whl >/dev/null 2>&1; then
    echo "gpu_check_device: no trackcore wheel in $WHEELS: run \`make gpu-wheels\` here first and carry $WHEELS" >&2
    exit 3
fi
echo "== $(python3 --version) at $(command -v python3); $(nvidia-smi -L 2>&1 | head -1)"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
    "$WHEELS"/*.whl || { echo "gpu_check_device: installing the wheels of $WHEELS failed" >&2; exit 3; }
export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH} WANDB_MODE=${WANDB_MODE:-disabled} PYTHONUNBUFFERED=1
python3 -c "import trackcore, faiss, jsonargparse; from importlib.metadata import entry_points; \
print('families:', sorted(e.name for e in entry_points(group='trackcore.families')))" || exit 3
# weights that `scripts/device_wheels.py --model STEP=PATH` put beside the wheels: the TrackML-density part
DENSITY=()
for m in "$WHEELS"/models/*.ckpt; do [ -e "$m" ] && DENSITY+=(--density-ckpt "$(basename "$m" .ckpt)=$m"); done
# faiss-gpu cannot travel: its CUDA 12 build needs cuBLAS 12 (~500 MB); the image holds CUDA 13's
python3 scripts/gpu_check.py --out "$CHECK" --events "${EVENTS:-3}" --compare-data tiny \
    --allow-skip "faiss has no GPU support" --part-timeout "${PART_TIMEOUT:-200}" ${DENSITY[@]+"${DENSITY[@]}"} "$@"
rc=$?
cp "$CHECK"/gpu_check.md "$CHECK"/gpu_check.json "$DEST"/ 2>/dev/null
cp "$CHECK"/bench/bench_*.md "$CHECK"/bench/bench_*.json "$DEST"/ 2>/dev/null
cp "$CHECK"/bench_density/bench_trackml-full-pixel.md "$DEST"/bench_density_trackml-full-pixel.md 2>/dev/null
cp "$CHECK"/compare/report.md "$DEST"/compare_report.md 2>/dev/null
tar czf "$DEST"/logs.tgz -C "$CHECK" --exclude=data_cache --exclude=work --exclude='*.png' . 2>/dev/null
echo "gpu_check_device: exit $rc; reports in $DEST: $(ls "$DEST" | tr '\n' ' ')"
exit $rc
