"""GMM-HMM training and alignment without Kaldi binaries.

Kaldi's own HMM/GMM C++ code (the ``kaldi-hmm-gmm`` wheel) driven from
Python: a flat-start monophone system, a decision-tree triphone system
(the tree building is a port of Kaldi's, see :mod:`sb_rectifier.gmm.tree`),
forced alignment and GMM decoding, with models, trees and alignments in
Kaldi's own formats so that ``train.py --train_ali_dir`` reads them as it
reads a Kaldi recipe's.

Authors
 * sb_rectifier developers 2026
"""
