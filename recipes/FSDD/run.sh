#!/usr/bin/env bash
# Real speech end to end, no Kaldi installation: the Free Spoken Digit
# Dataset (FSDD) -> GMM-HMM flat start (mono -> tri) -> alignments -> the
# hybrid with each hidden unit -> digit-loop decoding -> one results table.
#
#   bash run.sh --fsdd FSDD_DIR [--exp exp_fsdd]
#               [--stage N] [--stop-stage M] [--jobs 2]
#
# Stages meet through files in $exp and each is skipped when its output
# exists (the commands themselves reuse finished work), so a run that was
# stopped is resumed by running it again. Run from this folder.
set -euo pipefail

fsdd=
exp=exp_fsdd
stage=0
stop_stage=100
jobs=2
units="tanh relu leaky_relu"
num_leaves=200
num_gauss=2000
while [ $# -gt 0 ]; do
  case "$1" in
    --fsdd) fsdd=$2; shift 2 ;;
    --exp) exp=$2; shift 2 ;;
    --stage) stage=$2; shift 2 ;;
    --stop-stage) stop_stage=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --units) units=$2; shift 2 ;;
    --num-leaves) num_leaves=$2; shift 2 ;;
    --num-gauss) num_gauss=$2; shift 2 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
if [ -z "$fsdd" ] && [ "$stage" -le 0 ]; then
  echo "run.sh: give the dataset with --fsdd DIR (the folder holding" \
       "recordings/)" >&2
  exit 1
fi
repo=$(cd ../.. && pwd)
log() { echo "$(date '+%H:%M:%S') stage $1: $2"; }
# timed LABEL CMD...: runs CMD, prints and records its wall time in
# $exp/times.tsv (results.py reports them).
timed() {
  local label=$1 s=$SECONDS; shift
  "$@"
  echo "  ($((SECONDS - s)) s)"
  mkdir -p "$exp"
  printf '%s\t%s\n' "$label" "$((SECONDS - s))" >>"$exp/times.tsv"
}

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log 0 "data directories and the CMUdict digit lexicon"
  timed prepare python prepare.py "$fsdd" "$exp"
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log 1 "lang directory"
  timed prepare-lang sb-rectifier prepare-lang "$exp/data/local/dict" "$exp/data/lang"
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log 2 "40-dim filterbanks + CMVN (the hybrid's input)"
  for split in train dev test; do
    timed "make-feats $split" sb-rectifier make-feats "$exp/data/$split" --jobs "$jobs"
  done
fi
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log 3 "GMM-HMM: flat-start monophones, then triphones"
  timed train-gmm sb-rectifier train-gmm "$exp/data/train" "$exp/data/lang" "$exp/exp" \
    --jobs "$jobs" --num-leaves "$num_leaves" --num-gauss "$num_gauss"
fi
if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log 4 "alignments of train, dev and test with the triphone system"
  for split in train dev test; do
    timed "align $split" sb-rectifier align "$exp/data/$split" "$exp/data/lang" \
      "$exp/exp/tri1" "$exp/exp/ali_$split" --jobs "$jobs"
  done
fi
if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log 5 "decoding graph: a loop over the ten digits"
  timed make-graph sb-rectifier make-graph "$exp/data/lang" "$exp/exp/tri1" \
    "$exp/exp/tri1/graph_loop" --word-loop
fi
if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  log 6 "GMM decoding of dev and test (WER, and frame accuracy against the alignments)"
  for split in dev test; do
    timed "decode-gmm $split" sb-rectifier decode-gmm \
      "$exp/exp/tri1/graph_loop" "$exp/data/$split" "$exp/exp/tri1" \
      "$exp/exp/tri1/decode_$split" --ali-dir "$exp/exp/ali_$split" \
      --jobs "$jobs"
  done
fi
if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  for unit in $units; do
    log 7 "hybrid, $unit units"
    timed "hybrid $unit" python "$repo/train.py" "$repo/hparams/$unit.yaml" \
      --data_folder "$exp" --graph_dir "$exp/exp/tri1/graph_loop" \
      --output_folder "$exp/hybrid/$unit" \
      --frame_cache_folder "$exp/frame_cache" --noprogressbar
  done
fi
if [ "$stage" -le 8 ] && [ "$stop_stage" -ge 8 ]; then
  log 8 "results table"
  python results.py "$exp" --units $units
fi
