"""Modules saved with a hybrid model: input normalisation and priors."""

from sb_rectifier.nnet.normalization import GlobalNormalization
from sb_rectifier.nnet.priors import SenonePriors

__all__ = ["GlobalNormalization", "SenonePriors"]
