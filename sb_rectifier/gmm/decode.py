"""One-best decoding with a GMM-HMM (Kaldi's ``gmm-decode-faster``).

The per-pdf log-likelihoods of all frames come from one matrix product
over every Gaussian of the model (``gconst + x . mu/var - x^2 . 1/(2 var)``,
summed per pdf with log-sum-exp), then the hybrid system's decoder
(:func:`sb_rectifier.decoding.decoder.decode_utterance`, Kaldi's
``FasterDecoder``) searches the HCLG. Hypotheses, ``wer.txt`` and
``per_utt.txt`` are written as the hybrid decode stage writes them.

Authors
 * sb_rectifier developers 2026
"""

import os
import time

import numpy as np

from sb_rectifier.decoding.decoder import decode_utterance
from sb_rectifier.decoding.fst_io import read_graph
from sb_rectifier.decoding.lang import read_symbols
from sb_rectifier.decoding.tuning import write_hyps
from sb_rectifier.files import write_json, write_text
from sb_rectifier.gmm.align import run_parallel
from sb_rectifier.gmm.model import am_to_arrays, read_model

__all__ = ["GmmScorer", "decode_gmm"]


class GmmScorer:
    """Per-pdf log-likelihoods of an AmDiagGmm, vectorised over Gaussians.

    Arguments
    ---------
    am_gmm : kaldi_hmm_gmm.AmDiagGmm
        The GMMs.

    Example
    -------
    >>> from sb_rectifier.gmm.model import am_from_arrays
    >>> am = am_from_arrays([(np.ones(1), np.zeros((1, 2)), np.ones((1, 2)))])
    >>> x = np.array([[0.5, -1.0]], dtype=np.float32)
    >>> scorer = GmmScorer(am)
    >>> bool(np.isclose(scorer(x)[0, 0], am.log_likelihood(0, x[0]), atol=1e-4))
    True
    """

    def __init__(self, am_gmm):
        gconsts, means_invvars, inv_vars, owner = [], [], [], []
        for pdf, (gc, _w, mi, iv) in enumerate(am_to_arrays(am_gmm)):
            gconsts.append(gc)
            means_invvars.append(mi)
            inv_vars.append(iv)
            owner.append(np.full(len(gc), pdf))
        self.gconsts = np.concatenate(gconsts).astype(np.float64)
        self.weights = np.concatenate(
            [np.concatenate(means_invvars), -0.5 * np.concatenate(inv_vars)],
            axis=1,
        ).T.astype(np.float64)
        self.owner = np.concatenate(owner)
        self.starts = np.flatnonzero(
            np.r_[True, self.owner[1:] != self.owner[:-1]]
        )
        self.num_pdfs = am_gmm.num_pdfs

    def __call__(self, feats):
        """``(T, num_pdfs)`` float32 log-likelihoods of ``feats`` ``(T, D)``."""
        x = np.asarray(feats, dtype=np.float64)
        comp = np.concatenate([x, x * x], axis=1) @ self.weights + self.gconsts
        top = np.maximum.reduceat(comp, self.starts, axis=1)
        expd = np.exp(comp - top[:, self.owner])
        out = np.log(np.add.reduceat(expd, self.starts, axis=1)) + top
        return out.astype(np.float32)


def _decode_chunk(task):
    utts, acoustic_scale, beam, max_active = task
    shared = _shared()
    out = []
    for utt in utts:
        loglikes = shared["scorer"](shared["feats"][utt])
        result = decode_utterance(
            shared["graph"],
            loglikes,
            shared["tid2pdf"],
            acoustic_scale=acoustic_scale,
            beam=beam,
            max_active=max_active,
        )
        out.append(
            (
                utt,
                result.words,
                result.reached_final,
                len(loglikes),
                loglikes.argmax(axis=1).astype(np.int32),
            )
        )
    return out


def _aligned_pdfs(ali_dir, num_pdfs):
    """Utterance -> aligned pdf ids of an alignment folder (checked)."""
    from sb_rectifier.kaldi.alignments import load_transition_ids

    alis, model = load_transition_ids(ali_dir)
    if model.num_pdfs != num_pdfs:
        raise ValueError(
            f"{os.fspath(ali_dir)}/final.mdl has {model.num_pdfs} pdfs, the "
            f"decoding model {num_pdfs}: alignments of another tree"
        )
    return {utt: model.tid2pdf[tids] for utt, tids in alis.items()}


def _shared():
    from sb_rectifier.gmm import align

    return align._SHARED


def decode_gmm(
    graph_dir,
    data_dir,
    gmm_dir,
    decode_dir,
    acoustic_scale=0.0833,
    beam=13.0,
    max_active=7000,
    jobs=1,
    feats_dir=None,
    ali_dir=None,
    progress=True,
):
    """Decodes a data folder with a GMM system and an HCLG graph.

    Arguments
    ---------
    graph_dir : str or os.PathLike
        ``HCLG.fst`` and ``words.txt`` (``make-graph``).
    data_dir : str or os.PathLike
        The data folder (``wav.scp``, ``utt2spk``; ``text`` for scoring).
    gmm_dir : str or os.PathLike
        The system (``final.mdl``).
    decode_dir : str or os.PathLike
        Output: ``hyp.txt``, and with ``text``: ``wer.txt``,
        ``per_utt.txt``; ``decoding.json``.
    acoustic_scale, beam : float
        Decoder options (Kaldi's ``decode.sh`` defaults).
    max_active : int
        Active-state limit.
    jobs : int
        Worker processes.
    feats_dir : str, optional
        MFCC folder (default ``<decode_dir>/mfcc``).
    ali_dir : str or os.PathLike, optional
        Alignments of the data (``align`` with a system of the same tree):
        the frame accuracy of the GMM (the best-scoring pdf of each frame
        against the aligned one) is reported too, as the hybrid reports
        its own.
    progress : bool
        tqdm bar.

    Returns
    -------
    dict
        ``decoding.json``: ``utterances``, ``wer`` (or None), ``kaldi``,
        ``not_reaching_final``, ``seconds``, ``real_time_factor``; with
        ``ali_dir``: ``frame_acc``, ``frame_acc_frames`` and
        ``frame_acc_skipped`` (utterances without an alignment of their
        length, listed).

    Example
    -------
    >>> decode_gmm(getfixture("tmp_path"), "d", "g", "o")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FileNotFoundError: .../words.txt: ...
    """
    from sb_rectifier.features.make_feats import gmm_features
    from sb_rectifier.scoring.wer import read_text, score

    graph_dir, decode_dir = os.fspath(graph_dir), os.fspath(decode_dir)
    words_path = os.path.join(graph_dir, "words.txt")
    if not os.path.isfile(words_path):
        raise FileNotFoundError(
            f"{words_path}: not found (a make-graph folder?)"
        )
    id2word = {i: w for w, i in read_symbols(words_path).items()}
    graph = read_graph(os.path.join(graph_dir, "HCLG.fst"))
    trans_model, am_gmm, ours = read_model(
        os.path.join(os.fspath(gmm_dir), "final.mdl"), ours=True
    )
    feats = gmm_features(
        data_dir,
        feats_dir or os.path.join(decode_dir, "mfcc"),
        num_jobs=jobs,
        progress=progress,
    )
    if feats and next(iter(feats.values())).shape[1] != am_gmm.dim:
        raise ValueError(
            f"{data_dir}: features have {next(iter(feats.values())).shape[1]} "
            f"dimensions, the model {am_gmm.dim}"
        )
    utts = sorted(u for u, x in feats.items() if len(x))
    ali_pdfs = None
    if ali_dir is not None:
        ali_pdfs = _aligned_pdfs(ali_dir, am_gmm.num_pdfs)
    start = time.time()
    chunks = [
        list(c)
        for c in np.array_split(
            np.array(utts, dtype=object), max(1, min(len(utts), jobs * 8))
        )
    ]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(utts), desc="decode", unit="utt", leave=False)
    try:
        outputs = run_parallel(
            _decode_chunk,
            [(c, acoustic_scale, beam, max_active) for c in chunks],
            jobs,
            {
                "graph": graph,
                "feats": feats,
                "scorer": GmmScorer(am_gmm),
                "tid2pdf": ours.tid2pdf,
            },
            progress=bar,
            sizes=[len(c) for c in chunks],
        )
    finally:
        if bar is not None:
            bar.close()
    seconds = time.time() - start
    hyps, not_final, frames = {}, [], 0
    correct, scored, skipped = 0, 0, []
    for chunk in outputs:
        for utt, words, reached, num_frames, best in chunk:
            hyps[utt] = [id2word[w] for w in words]
            frames += num_frames
            if not reached:
                not_final.append(utt)
            if ali_pdfs is None:
                continue
            ref = ali_pdfs.get(utt)
            if ref is None or len(ref) != len(best):
                skipped.append(utt)
                continue
            correct += int(np.sum(ref == best))
            scored += len(ref)
    write_hyps(os.path.join(decode_dir, "hyp.txt"), hyps, makedirs=True)
    report = {
        "utterances": len(hyps),
        "empty_features": sorted(set(feats) - set(utts)),
        "not_reaching_final": len(not_final),
        "seconds": round(seconds, 2),
        "real_time_factor": seconds / max(frames * 0.01, 1e-9),
        "wer": None,
    }
    if ali_pdfs is not None:
        report["frame_acc"] = correct / scored if scored else None
        report["frame_acc_frames"] = scored
        report["frame_acc_skipped"] = sorted(skipped)
    text = os.path.join(os.fspath(data_dir), "text")
    if os.path.isfile(text):
        result = score(read_text(text), hyps, mode="all")
        write_text(os.path.join(decode_dir, "wer.txt"), result.kaldi_lines())
        write_text(os.path.join(decode_dir, "per_utt.txt"), result.details())
        report["wer"] = result.wer
        report["kaldi"] = result.kaldi_lines().strip()
    write_json(os.path.join(decode_dir, "decoding.json"), report)
    return report
