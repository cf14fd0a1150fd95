#!/usr/bin/env bash
# How good are the GMM-HMM alignments of `sb-rectifier train-gmm`? Measured
# where the truth is known: the embedded synthetic corpus, whose exact
# alignments come from the synthesiser's phoneme events.
#
#   bash run.sh [--hours 1] [--exp exp_gmm_alignment] [--stage N]
#               [--stop-stage M] [--jobs 2]
#
# 1. the corpus (sb-rectifier make-corpus), a dict dir from its lexicon,
#    prepare-lang, and a test lang dir with the corpus's grammar;
# 2. train-gmm (flat-start monophones, then triphones), timed;
# 3. alignments of train/dev/test with the triphone system;
# 4. phone boundary accuracy (10/20/40 ms) of the monophone and the
#    triphone alignments of train against the exact ones, and of a
#    monophone GMM trained on the exact ones and realigned (the bound);
# 5. a decoding graph for the triphone tree, and the GMM's own WER;
# 6. the hybrid (ReLU, hparams/relu.yaml) trained on the GMM alignments and
#    on the exact ones, same seed, each decoded with its own graph.
# Stages meet through files in $exp and are skipped when their output
# exists. Run from this folder.
set -euo pipefail

hours=1
exp=exp_gmm_alignment
stage=0
stop_stage=100
jobs=2
unit=relu
while [ $# -gt 0 ]; do
  case "$1" in
    --hours) hours=$2; shift 2 ;;
    --exp) exp=$2; shift 2 ;;
    --stage) stage=$2; shift 2 ;;
    --stop-stage) stop_stage=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --unit) unit=$2; shift 2 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
repo=$(cd ../.. && pwd)
corpus=$exp/corpus
log() { echo "$(date '+%H:%M:%S') stage $1: $2"; }
timed() { local s=$SECONDS; "$@"; echo "  ($((SECONDS - s)) s)"; }

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log 1 "corpus ($hours h), dict, lang, lang_test"
  timed sb-rectifier make-corpus --hours "$hours" --jobs "$jobs" "$corpus"
  python local/corpus_lang.py dict "$corpus" "$exp/data/local/dict"
  sb-rectifier prepare-lang "$exp/data/local/dict" "$exp/data/lang"
  python local/corpus_lang.py grammar "$corpus" "$exp/data/lang" \
    "$exp/data/lang_test"
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log 2 "train-gmm: monophones, then triphones"
  timed sb-rectifier train-gmm "$corpus/data/train" "$exp/data/lang" \
    "$exp/exp" --jobs "$jobs"
fi
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log 3 "alignments with the triphone system"
  for split in train dev test; do
    timed sb-rectifier align "$corpus/data/$split" "$exp/data/lang" \
      "$exp/exp/tri1" "$exp/exp/ali_$split" --jobs "$jobs"
  done
fi
if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log 4 "phone boundary accuracy against the exact alignments"
  for system in mono_ali ali_train; do
    sb-rectifier compare-alignments "$corpus/exp/ali_train" \
      "$exp/exp/$system" --ref-phones "$corpus/data/lang/phones.txt" \
      --hyp-phones "$exp/data/lang/phones.txt" \
      --json "$exp/boundaries_$system.json"
  done
  # the bound: a monophone GMM trained on the exact alignments, realigned
  [ -f "$exp/boundaries_oracle.json" ] || python local/oracle_gmm.py "$exp"
fi
if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log 5 "graph for the triphone tree; GMM decoding"
  timed sb-rectifier make-graph "$exp/data/lang_test" "$exp/exp/tri1" \
    "$exp/exp/tri1/graph"
  for split in dev test; do
    timed sb-rectifier decode-gmm "$exp/exp/tri1/graph" "$corpus/data/$split" \
      "$exp/exp/tri1" "$exp/exp/tri1/decode_$split" --jobs "$jobs"
  done
fi
if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  log 6 "hybrid ($unit) on the GMM alignments and on the exact ones"
  timed python "$repo/train.py" "$repo/hparams/$unit.yaml" \
    --data_folder "$corpus" --train_ali_dir "$exp/exp/ali_train" \
    --dev_ali_dir "$exp/exp/ali_dev" --test_ali_dir "$exp/exp/ali_test" \
    --graph_dir "$exp/exp/tri1/graph" \
    --output_folder "$exp/hybrid/${unit}_gmm_ali" \
    --frame_cache_folder "$exp/frame_cache" --noprogressbar
  timed python "$repo/train.py" "$repo/hparams/$unit.yaml" \
    --data_folder "$corpus" --output_folder "$exp/hybrid/${unit}_exact_ali" \
    --frame_cache_folder "$exp/frame_cache" --noprogressbar
fi
if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  log 7 "results table"
  python local/results.py "$exp" --unit "$unit"
fi
