#!/usr/bin/env python3
"""The Switchboard recipe: the project's train.py with this folder's YAMLs.

    python prepare.py S5C_DIR swbd          # once: the data folder
    python train.py hparams/relu.yaml        # tanh.yaml, leaky_relu.yaml
    python train.py hparams/relu.yaml --num_layers 2
    sb-rectifier sweep --recipe recipes/Switchboard   # the 9 runs

The YAMLs here extend the paper's GPU settings (hparams/paper/base.yaml:
2048 units, bf16, frames on the GPU) with the Switchboard data folder that
``prepare.py`` writes (``swbd/``: train_nodup, the first 4000 utterances of
train_dev, eval2000), its s5c graph, the Hub5 GLM and the SWBD / CallHome
subsets. Everything else (stages, checks, decoding, scoring) is the
project's ``train.py``, run here unchanged.

Authors
 * sb_rectifier developers 2026
"""

import os
import runpy

REPO = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)

if __name__ == "__main__":
    runpy.run_path(os.path.join(REPO, "train.py"), run_name="__main__")
