"""Scoring recognised words: WER as Kaldi reports it, Hub5 normalisation.

* :mod:`.wer`: Kaldi ``text`` files (:func:`read_text`), edit-distance
  counts with ``kaldialign`` (:func:`score`), the output of Kaldi's
  ``compute-wer`` (:meth:`WerResult.kaldi_lines`), per-utterance details
  in the format of ``wer_per_utt_details.pl`` and subsets chosen by
  utterance-id prefix (:func:`score_subsets`, :func:`subset_table`).
* :mod:`.glm`: reading and applying a Hub5 GLM (``en20000405_hub5.glm``)
  and filtering hesitations and non-speech tokens as Kaldi's Switchboard
  recipe does before hubscr: an approximation of the official scoring,
  whose limits the module documents.
* :mod:`.significance`: whether two systems' WERs differ, by a paired
  bootstrap over utterances (:func:`paired_bootstrap`).

The ``sb-rectifier compute-wer`` command wraps both.

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.scoring.glm import (
    HESITATION,
    KALDI_HYP_HESITATIONS,
    Glm,
    GlmRule,
    is_non_speech,
    normalize,
)
from sb_rectifier.scoring.significance import (
    PairedBootstrap,
    paired_bootstrap,
    per_utterance_errors,
)
from sb_rectifier.scoring.wer import (
    MODES,
    UtteranceAlignment,
    WerResult,
    align_utterance,
    kaldi_percent,
    read_csid,
    read_text,
    resolve_alternatives,
    score,
    score_subsets,
    subset_table,
)

__all__ = [
    "PairedBootstrap",
    "paired_bootstrap",
    "per_utterance_errors",
    "HESITATION",
    "KALDI_HYP_HESITATIONS",
    "MODES",
    "Glm",
    "GlmRule",
    "UtteranceAlignment",
    "WerResult",
    "align_utterance",
    "is_non_speech",
    "kaldi_percent",
    "read_csid",
    "normalize",
    "read_text",
    "resolve_alternatives",
    "score",
    "score_subsets",
    "subset_table",
]
