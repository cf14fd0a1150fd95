"""LM weight and word insertion penalty: chosen on dev, applied to test.

Kaldi's scoring scripts pick the best LM weight and insertion penalty on
the very set they report (PyTorch-Kaldi inherited this: its issue #6).
Here both are chosen by WER on dev only; test is decoded once, with the
chosen pair. The LM weight is the inverse of the acoustic scale
(``acoustic_scale = 1 / lm_weight``), as in Kaldi's ``lattice-scale``.

Authors
 * sb_rectifier developers 2026
"""

import logging
import os
import statistics
import time

from tqdm import tqdm

from sb_rectifier.files import write_json, write_table, write_text

logger = logging.getLogger(__name__)

FRAME_SECONDS = 0.01


def words_of(result, id2word, utt=None, words_file=None):
    """Word strings of a decoding result.

    Arguments
    ---------
    result : DecodingResult
        From the decoder.
    id2word : dict
        Word id -> word.
    utt : str, optional
        The utterance, named in the error.
    words_file : str, optional
        Where ``id2word`` comes from (``words.txt``), named in the error.

    Returns
    -------
    list of str
        The words.

    Raises
    ------
    ValueError
        If a word id of the result is not in ``id2word``: the graph and
        the word table do not match.

    Example
    -------
    >>> from types import SimpleNamespace
    >>> words_of(SimpleNamespace(words=[2, 1]), {1: "yes", 2: "no"})
    ['no', 'yes']
    >>> words_of(SimpleNamespace(words=[3]), {1: "yes"}, "u1", "words.txt")
    Traceback (most recent call last):
    ValueError: words.txt: no word with id 3 (output by the graph for utterance 'u1'): the graph and words.txt do not match (words.txt truncated, or from another graph?)
    """
    try:
        return [id2word[w] for w in result.words]
    except KeyError as err:
        table = words_file or "the word table (words.txt)"
        where = f" for utterance {utt!r}" if utt is not None else ""
        raise ValueError(
            f"{table}: no word with id {err.args[0]} (output by the graph"
            f"{where}): the graph and {words_file or 'the word table'} do "
            f"not match ({words_file or 'words.txt'} truncated, or from "
            "another graph?)"
        ) from None


def hyps_of(results, id2word, words_file=None):
    """Word strings of decoded utterances.

    Arguments
    ---------
    results : dict
        Utterance id -> DecodingResult.
    id2word : dict
        Word id -> word.
    words_file : str, optional
        Where ``id2word`` comes from, for the error (see :func:`words_of`).

    Returns
    -------
    dict
        Utterance id -> list of words.

    Example
    -------
    >>> from types import SimpleNamespace
    >>> hyps_of({"u1": SimpleNamespace(words=[1, 1])}, {1: "yes"})
    {'u1': ['yes', 'yes']}
    """
    return {
        utt: words_of(result, id2word, utt, words_file)
        for utt, result in results.items()
    }


def write_hyps(path, hyps, makedirs=False):
    """Writes hypotheses as a Kaldi text file (atomically).

    Arguments
    ---------
    path : str
        Output file.
    hyps : dict
        Utterance id -> list of words.
    makedirs : bool
        Create the folder if needed.

    Raises
    ------
    sb_rectifier.files.WriteError
        Naming ``path`` (full disk, ...); nothing is left half-written.

    Example
    -------
    >>> path = getfixture("tmp_path") / "hyp.txt"
    >>> write_hyps(path, {"u1": ["yes", "no"], "u2": []})
    >>> path.read_text()
    'u1 yes no\\nu2\\n'
    """
    rows = ((utt, *words) for utt, words in hyps.items())
    write_table(path, rows, makedirs=makedirs)


def _not_final_summary(split, results):
    """One log line when utterances reached no final state."""
    count = sum(not r.reached_final for r in results.values())
    if count:
        logger.info(
            f"{split}: {count} of {len(results)} utterances reached no "
            "final state (best partial path used)"
        )
    return count


def _dev_hyps(
    decoder,
    scp,
    id2word,
    words_file,
    lm_weights,
    penalties,
    tuning,
    lattice_beam,
    lattice_lm_weight,
    progress,
):
    """Yields ``((lm_weight, penalty), hyps, not_final)`` per grid point."""
    points = [(w, p) for w in lm_weights for p in penalties]
    if tuning == "exhaustive":
        for lm_weight, penalty in tqdm(
            points, desc="dev grid", disable=not progress, unit="point"
        ):
            results = decoder.decode(
                scp, 1.0 / lm_weight, penalty, progress=False
            )
            hyps = hyps_of(results, id2word, words_file)
            not_final = sum(not r.reached_final for r in results.values())
            yield (lm_weight, penalty), hyps, not_final
        return
    if lattice_lm_weight is None:
        lattice_lm_weight = statistics.median_low(sorted(lm_weights))
    results = decoder.rescore_grid(
        scp,
        lm_weights,
        penalties,
        lattice_lm_weight,
        lattice_beam=lattice_beam,
        progress=progress,
        desc="dev lattices",
    )
    not_final = sum(not reached for _, reached in results.values())
    for k, point in enumerate(points):
        hyps = {
            utt: words_of(paths[k], id2word, utt, words_file)
            for utt, (paths, _) in results.items()
        }
        yield point, hyps, not_final


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
    words_file=None,
    ctm_writer=None,
    tuning="exhaustive",
    lattice_beam=6.0,
    lattice_lm_weight=None,
):
    """Grid search on dev, then one decoding of test with the best pair.

    Every grid point is logged at DEBUG level (and kept in the report's
    ``dev_grid``); one INFO line gives the grid size and the chosen pair.
    Utterances that reach no final state of the graph are counted, per
    grid point and per split, and one INFO line per decoded split says
    how many there were (when there were any).

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
        Where hypotheses and reports go (``<split>/hyp.txt``,
        ``<split>/wer.txt``, ``<split>/per_utt.txt`` with the counts of each
        utterance), each written atomically.
    lm_weights : list of float
        Candidate LM weights.
    penalties : list of float
        Candidate word insertion penalties.
    subsets : dict, optional
        Name -> utterance-id prefix (Hub5'00: SWBD ``sw_``, CallHome ``en_``).
    glm : optional
        A GLM (see :mod:`sb_rectifier.scoring.glm`) applied when scoring.
    progress : bool
        Show progress bars: one over the grid points, then one per split.
    words_file : str, optional
        Where ``id2word`` comes from (named in errors).
    ctm_writer : callable, optional
        ``ctm_writer(split, results, path)`` writes ``<split>/ctm`` from
        the final decoding of each split (see
        :func:`sb_rectifier.decoding.ctm.ctm_writer`); the report gives
        its path, relative to ``out_dir``.
    tuning : str
        ``"exhaustive"``: decode dev once per grid point; ``"lattice"``:
        decode dev once into lattices and take each point's best path
        (:meth:`ParallelDecoder.rescore_grid`, Kaldi's scoring). The
        chosen pair then decodes dev and test with the same search: the
        1-best decoder (exhaustive), or lattices at the generation LM
        weight and their best path at the pair
        (:meth:`ParallelDecoder.decode_lattices`).
    lattice_beam : float
        Lattice beam (``tuning="lattice"``).
    lattice_lm_weight : float, optional
        LM weight of lattice generation (``tuning="lattice"``); default:
        the median of ``lm_weights``.

    Returns
    -------
    dict
        Chosen LM weight and penalty, the dev grid, dev and test WER (with
        subsets), decoding time and real-time factor of the test pass.

    Raises
    ------
    ValueError
        If ``tuning`` is unknown, the grid is empty or has an LM weight
        that is not positive, the
        dev references have no words (the WER is undefined), or a decoded
        word id is not in ``id2word``.
    """
    from sb_rectifier.scoring import score, score_subsets, subset_table

    if tuning not in ("exhaustive", "lattice"):
        raise ValueError(
            f"tune_and_decode: tuning must be 'exhaustive' or 'lattice', "
            f"got {tuning!r}"
        )
    bad = [w for w in lm_weights if not w > 0]
    if bad:
        raise ValueError(
            f"tune_and_decode: LM weights must be positive, got {bad} in "
            f"lm_weights={list(lm_weights)}"
        )
    points = [(w, p) for w in lm_weights for p in penalties]
    if not points:
        raise ValueError(
            "tune_and_decode: no LM weight / insertion penalty to try "
            f"(lm_weights={list(lm_weights)}, penalties={list(penalties)})"
        )
    if not any(refs["dev"].values()):
        raise ValueError(
            "tune_and_decode: the dev references have no words: the WER "
            "is undefined, nothing to tune on"
        )
    if tuning == "lattice" and lattice_lm_weight is None:
        lattice_lm_weight = statistics.median_low(sorted(lm_weights))
    grid = []
    best = None
    start = time.time()
    for (lm_weight, penalty), hyps, not_final in _dev_hyps(
        decoder,
        scps["dev"],
        id2word,
        words_file,
        lm_weights,
        penalties,
        tuning,
        lattice_beam,
        lattice_lm_weight,
        progress,
    ):
        wer = score(refs["dev"], hyps, mode="all", glm=glm)
        grid.append(
            {
                "lm_weight": lm_weight,
                "word_ins_penalty": penalty,
                "wer": wer.wer,
                "not_reaching_final": not_final,
            }
        )
        logger.debug(
            f"dev: LM weight {lm_weight}, penalty {penalty}: %WER "
            f"{wer.wer:.2f} ({not_final} utterances reached no final state)"
        )
        if best is None or wer.wer < best[0]:
            best = (wer.wer, lm_weight, penalty)
    tuning_seconds = time.time() - start
    best_wer, lm_weight, penalty = best
    logger.info(
        f"dev grid: {len(lm_weights)} LM weights x {len(penalties)} "
        f"penalties = {len(points)} points; chosen LM weight {lm_weight}, "
        f"penalty {penalty}: dev %WER {best_wer:.2f}"
        + (
            f" (lattice tuning, {tuning_seconds:.1f} s)"
            if tuning == "lattice"
            else ""
        )
    )
    report = {
        "lm_weight": lm_weight,
        "acoustic_scale": 1.0 / lm_weight,
        "word_ins_penalty": penalty,
        "dev_grid": grid,
        "tuning": tuning,
        "tuning_seconds": tuning_seconds,
    }
    for split in ("dev", "test"):
        if tuning == "lattice":
            results = decoder.decode_lattices(
                scps[split],
                lm_weight,
                penalty,
                lattice_lm_weight,
                lattice_beam=lattice_beam,
                progress=progress,
                desc=f"decode {split}",
            )
        else:
            results = decoder.decode(
                scps[split],
                1.0 / lm_weight,
                penalty,
                progress=progress,
                desc=f"decode {split}",
            )
        seconds, frames = decoder.last_seconds, decoder.last_frames
        not_final = _not_final_summary(split, results)
        hyps = hyps_of(results, id2word, words_file)
        folder = os.path.join(out_dir, split)
        write_hyps(os.path.join(folder, "hyp.txt"), hyps, makedirs=True)
        by_subset = score_subsets(
            refs[split], hyps, subsets or {}, mode="all", glm=glm
        )
        wer_text = by_subset["all"].kaldi_lines()
        if subsets:
            wer_text += "\n" + subset_table(by_subset) + "\n"
        write_text(os.path.join(folder, "wer.txt"), wer_text)
        # Per-utterance counts (wer_per_utt_details.pl's format): what
        # significance tests between systems pair up.
        write_text(
            os.path.join(folder, "per_utt.txt"),
            by_subset["all"].details(),
        )
        report[split] = {
            "wer": by_subset["all"].wer,
            "subsets": {name: r.wer for name, r in by_subset.items()},
            "kaldi": by_subset["all"].kaldi_lines().strip(),
            "decode_seconds": seconds,
            "audio_seconds": frames * FRAME_SECONDS,
            "real_time_factor": seconds / max(frames * FRAME_SECONDS, 1e-9),
            "not_reaching_final": not_final,
        }
        ctm_path = os.path.join(folder, "ctm")
        if ctm_writer is not None:
            ctm_writer(split, results, ctm_path)
            report[split]["ctm"] = os.path.join(split, "ctm")
        elif os.path.exists(ctm_path):
            os.remove(ctm_path)  # an earlier run's, not of this decoding
    write_json(os.path.join(out_dir, "decoding.json"), report)
    return report
