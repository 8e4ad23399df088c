#!/usr/bin/env bash
# The learned cuts of EC at TrackML density, end to end (README "Training at TrackML density", steps 10-12):
#
#   scripts/density_learned_cuts.sh GRAPH_STAGE EC_CKPT WORK_DIR
#
# GRAPH_STAGE: the density graph model's predictions of the train/val/test events (step 1); EC_CKPT: the density
# EC's checkpoint (step 9). Writes into WORK_DIR:
#   train_nocut/   the training events' candidates with the 3-layer searches and no learned cut (step 10a)
#   ec_quality.pkl the refinement's classifier fitted on them (10b)
#   train_cut/     the training events' candidates with that cut (the hits the triplet search sees when deployed)
#   triplets_quality.pkl  the triplet search's classifier fitted on its helices there (12b)
#   val/, test/    the tracks with step 12's settings, each evaluated (pT > 1 GeV and pT > 0.5 GeV)
# The truth labels only the classifiers' targets and the scores; the trackers read every pixel hit.
# Environment: N_TRAIN training events per stage (default 60), N_EVAL validation/test events (default: all),
# THREADS (default 2), QUALITY_CUT / TRIPLET_CUT (the thresholds, chosen on the validation events: 0.45 / 0.5).
set -euo pipefail

if [ "$#" -ne 3 ]; then
    echo "usage: $0 GRAPH_STAGE EC_CKPT WORK_DIR" >&2
    exit 2
fi
GRAPH=$1 EC=$2 WORK=$3
[ -d "$GRAPH" ] || { echo "$GRAPH: no graph stage there" >&2; exit 2; }
[ -f "$EC" ] || { echo "$EC: no checkpoint there" >&2; exit 2; }
N_TRAIN=${N_TRAIN:-60} THREADS=${THREADS:-2}
QUALITY_CUT=${QUALITY_CUT:-0.45} TRIPLET_CUT=${TRIPLET_CUT:-0.5}
EVAL_LIMIT=()
[ -n "${N_EVAL:-}" ] && EVAL_LIMIT=(--trainer.limit_predict_batches="$N_EVAL")
mkdir -p "$WORK"
export OMP_NUM_THREADS=$THREADS WANDB_MODE=${WANDB_MODE:-offline}

predict() {  # OUT SPLIT [overrides...]: EC's tracks of SPLIT with the density config and the overrides
    local out=$1 split=$2
    shift 2
    trackcore predict --config ec/configs/full_trackml_edge_classifier.yaml --ckpt_path "$EC" \
        --data.init_args.input_dir="$GRAPH" --predict_splits="[$split]" --predict_dir="$out" \
        --trainer.logger=false "$@" > "$out.log" 2>&1 || { tail -5 "$out.log" >&2; exit 1; }
}

SEARCHES=(--model.init_args.refine.recover_min_layers=3
          "--model.init_args.refine.displaced={min_layers: 3, min_pt: 0.9, retries: 1, search_min_pt: 0.7}")

echo "== 10a: $N_TRAIN training events, 3-layer searches, no learned cut"
predict "$WORK/train_nocut" train "${SEARCHES[@]}" --trainer.limit_predict_batches="$N_TRAIN"
echo "== 10b: the refinement's classifier"
trackcore quality fit "$WORK/train_nocut" --split train --model "$WORK/ec_quality.pkl"

echo "== 12a: the training events with the learned cut"
CUT=(--model.init_args.refine.quality_model="$WORK/ec_quality.pkl" --model.init_args.refine.max_fake_prob=0.5)
predict "$WORK/train_cut" train "${SEARCHES[@]}" "${CUT[@]}" --trainer.limit_predict_batches="$N_TRAIN"
echo "== 12b: the triplet search's classifier, on the hits those candidates leave free"
trackcore quality fit "$WORK/train_cut" --split train --model "$WORK/triplets_quality.pkl" --triplets '{}'

STEP12=("${SEARCHES[@]}" --model.init_args.refine.quality_model="$WORK/ec_quality.pkl"
        --model.init_args.refine.max_fake_prob="$QUALITY_CUT" --model.init_args.refine.span_holes_from=3
        "--model.init_args.refine.triplets={quality_model: $WORK/triplets_quality.pkl, max_fake_prob: $TRIPLET_CUT}")
for split in val test; do
    echo "== 12c: the $split events with step 12's settings"
    predict "$WORK/$split" "$split" "${STEP12[@]}" "${EVAL_LIMIT[@]}"
    trackcore evaluate "$WORK/$split" --split "$split"
    trackcore evaluate "$WORK/$split" --split "$split" --min-pt 0.5 --out "$WORK/$split/eval_pt05"
done
