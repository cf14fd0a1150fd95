"""LM weight and word insertion penalty: chosen on dev, applied to test.

Kaldi's scoring scripts pick the best LM weight and insertion penalty on
the very set they report (PyTorch-Kaldi inherited this: its issue #6).
Here both are chosen by WER on dev only; test is decoded once, with the
chosen pair. The LM weight is the inverse of the acoustic scale
(``acoustic_scale = 1 / lm_weight``), as in Kaldi's ``lattice-scale``.

Authors
 * sb_rectifier developers 2026
"""

import json
import logging
import os

logger = logging.getLogger(__name__)

FRAME_SECONDS = 0.01


def words_of(result, id2word):
    """Word strings of a decoding result.

    Arguments
    ---------
    result : DecodingResult
        From the decoder.
    id2word : dict
        Word id -> word.

    Returns
    -------
    list of str
        The words.

    Example
    -------
    >>> from types import SimpleNamespace
    >>> words_of(SimpleNamespace(words=[2, 1]), {1: "yes", 2: "no"})
    ['no', 'yes']
    """
    return [id2word[w] for w in result.words]


def write_hyps(path, hyps):
    """Writes hypotheses as a Kaldi text file (atomically).

    Arguments
    ---------
    path : str
        Output file.
    hyps : dict
        Utterance id -> list of words.
    """
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fout:
        for utt, words in hyps.items():
            fout.write(" ".join([utt, *words]) + "\n")
    os.replace(tmp, path)


def tune_and_decode(
    decoder,
    scps,
    refs,
    id2word,
    out_dir,
    lm_weights,
    penalties,
    subsets=None,
    glm=None,
    progress=True,
):
    """Grid search on dev, then one decoding of test with the best pair.

    Arguments
    ---------
    decoder : ParallelDecoder
        An open decoder.
    scps : dict
        ``{"dev": scp, "test": scp}`` log-likelihood scps.
    refs : dict
        ``{"dev": {utt: words}, "test": {utt: words}}``.
    id2word : dict
        Word id -> word.
    out_dir : str
        Where hypotheses and reports go (``<split>/hyp.txt``, ...).
    lm_weights : list of float
        Candidate LM weights.
    penalties : list of float
        Candidate word insertion penalties.
    subsets : dict, optional
        Name -> utterance-id prefix (Hub5'00: SWBD ``sw_``, CallHome ``en_``).
    glm : optional
        A GLM (see :mod:`sb_rectifier.scoring.glm`) applied when scoring.
    progress : bool
        Show progress bars.

    Returns
    -------
    dict
        Chosen LM weight and penalty, the dev grid, dev and test WER (with
        subsets), decoding time and real-time factor of the test pass.
    """
    from sb_rectifier.scoring import score, score_subsets, subset_table

    grid = []
    best = None
    for lm_weight in lm_weights:
        for penalty in penalties:
            results = decoder.decode(
                scps["dev"], 1.0 / lm_weight, penalty, progress=False
            )
            hyps = {u: words_of(r, id2word) for u, r in results.items()}
            wer = score(refs["dev"], hyps, mode="all", glm=glm)
            grid.append(
                {
                    "lm_weight": lm_weight,
                    "word_ins_penalty": penalty,
                    "wer": wer.wer,
                }
            )
            logger.info(
                f"dev: LM weight {lm_weight}, penalty {penalty}: %WER {wer.wer:.2f}"
            )
            if best is None or wer.wer < best[0]:
                best = (wer.wer, lm_weight, penalty)
    _, lm_weight, penalty = best
    report = {
        "lm_weight": lm_weight,
        "acoustic_scale": 1.0 / lm_weight,
        "word_ins_penalty": penalty,
        "dev_grid": grid,
    }
    for split in ("dev", "test"):
        results = decoder.decode(
            scps[split],
            1.0 / lm_weight,
            penalty,
            progress=progress,
            desc=f"decode {split}",
        )
        seconds, frames = decoder.last_seconds, decoder.last_frames
        hyps = {u: words_of(r, id2word) for u, r in results.items()}
        folder = os.path.join(out_dir, split)
        os.makedirs(folder, exist_ok=True)
        write_hyps(os.path.join(folder, "hyp.txt"), hyps)
        by_subset = score_subsets(
            refs[split], hyps, subsets or {}, mode="all", glm=glm
        )
        with open(
            os.path.join(folder, "wer.txt"), "w", encoding="utf-8"
        ) as fout:
            fout.write(by_subset["all"].kaldi_lines())
            if subsets:
                fout.write("\n" + subset_table(by_subset) + "\n")
        report[split] = {
            "wer": by_subset["all"].wer,
            "subsets": {name: r.wer for name, r in by_subset.items()},
            "kaldi": by_subset["all"].kaldi_lines().strip(),
            "decode_seconds": seconds,
            "audio_seconds": frames * FRAME_SECONDS,
            "real_time_factor": seconds / max(frames * FRAME_SECONDS, 1e-9),
            "not_reaching_final": sum(
                not r.reached_final for r in results.values()
            ),
        }
    with open(
        os.path.join(out_dir, "decoding.json"), "w", encoding="utf-8"
    ) as fout:
        json.dump(report, fout, indent=2)
    return report
