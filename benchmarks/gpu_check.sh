#!/usr/bin/env bash
# The GPU checks of the paper's sweep, as one script sized for about
# 9 minutes on one H200 with 16 cores (docs/sweep.md, "On a GPU"):
#
#  1. an embedded corpus of GPU_CHECK_HOURS (default 10) hours of training
#     speech, synthesised on every core;
#  2. benchmarks/train_throughput.py --device cuda: frames/s of HybridBrain
#     and of a bare loop for the paper's model at batch 256, and the
#     fraction of the bf16 ceiling;
#  3. sb-rectifier sweep --hparams hparams/paper: 3 units x 2/3/4 layers of
#     2048 units, one seed, on that corpus (GPU_CHECK_EPOCHS epochs, a
#     3 x 2 decoding grid so that the CPU decoder keeps up, the training
#     step as one CUDA graph with a fused optimiser); the sweep is
#     stopped at GPU_CHECK_SWEEP_SECONDS and its table written from the
#     runs finished by then;
#  4. table, figures and logs copied to $OUT (8 files at most).
#
# Usage, from the repository root with the package installed:
#   OUT=/some/folder bash benchmarks/gpu_check.sh
set -uo pipefail
OUT=${OUT:-results/gpu_check}
HOURS=${GPU_CHECK_HOURS:-10}
EPOCHS=${GPU_CHECK_EPOCHS:-4}
SWEEP_SECONDS=${GPU_CHECK_SWEEP_SECONDS:-330}
CORPUS=results/embedded_corpus/${HOURS}h_seed0
SWEEP=results/sweep_paper_gpu
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" "$SWEEP"
log="$SWEEP/gpu_check.log"
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"

  echo "== 1. corpus: ${HOURS} h"
  time sb-rectifier make-corpus --hours "$HOURS" --jobs "$(nproc)" "$CORPUS"

  echo "== 2. training throughput"
  python benchmarks/train_throughput.py --device cuda --sizes paper \
    --json "$OUT/throughput.json"

  echo "== 3. sweep (stopped after ${SWEEP_SECONDS} s)"
  args=(--hparams hparams/paper --seeds 1234 --output "$SWEEP"
    --set corpus_hours="$HOURS" --set number_of_epochs="$EPOCHS"
    --set noprogressbar=True --set "lm_weights=[4,6,8]"
    --set "word_ins_penalties=[0.0,1.0]" --set decode_jobs=5
    --set cuda_graph_step=True --set fused_optimizer=True)
  timeout --signal=TERM "$SWEEP_SECONDS" sb-rectifier sweep "${args[@]}" --jobs 3
  sb-rectifier sweep "${args[@]}" --collect
  date -u
} 2>&1 | tee "$log"

for name in table.md table.csv wer_vs_depth.png fig2.png learning_curves.png; do
  cp "$SWEEP/$name" "$OUT/" 2>/dev/null || echo "not written: $name"
done
tar czf "$OUT/logs.tar.gz" "$log" "$SWEEP/logs" 2>/dev/null
ls -l "$OUT"
