"""A small synthetic Kaldi dataset (data dirs + alignment dirs) for tests.

The data has learnable structure: every frame's feature vector is the mean
of its pdf, plus a per-speaker offset (which CMVN removes), plus noise, and
the alignments are the transition-ids actually taken through the HMMs, so
``ali-to-pdf`` gives the true pdf of every frame.

Authors
 * sb_rectifier developers 2026
"""

import os
import struct

import kaldiio
import numpy as np

from sb_rectifier.kaldi.archives import write_int_vectors
from sb_rectifier.kaldi.data_dir import compute_cmvn_stats
from sb_rectifier.kaldi.hmm_topology import HmmTopology
from sb_rectifier.kaldi.transition_model import TransitionModel

SILENCE_PHONE = 1
MIN_STATE_FRAMES = 2
MAX_STATE_FRAMES = 8
SPEAKER_OFFSET_SCALE = 1.5


def _gmm_junk(num_pdfs, feat_dim, binary, rng):
    """Bytes that look like the GMM part of a final.mdl after the TM."""
    values = rng.normal(size=4 * feat_dim).astype(np.float32)
    if not binary:
        numbers = " ".join(f"{v:.6g}" for v in values)
        return (
            f"<DIMENSION> {feat_dim} <NUMPDFS> {num_pdfs} <DiagGMM> \n"
            f"<GCONSTS>  [ {numbers} ]\n<WEIGHTS>  [ 1 ]\n</DiagGMM> \n"
        ).encode("ascii")
    return (
        b"<DIMENSION> \x04"
        + struct.pack("<i", feat_dim)
        + b"<NUMPDFS> \x04"
        + struct.pack("<i", num_pdfs)
        + b"<DiagGMM> <GCONSTS> FV \x04"
        + struct.pack("<i", values.size)
        + values.tobytes()
        + b"</DiagGMM> "
    )


def _write_lines(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for key, value in rows:
            f.write(f"{key} {value}\n")


def make_kaldi_dataset(
    root,
    num_phones=6,
    num_states=3,
    feat_dim=13,
    utts_per_split={"train": 40, "dev": 10, "test": 10},
    speakers_per_split=None,
    binary_model=False,
    text_alignments=False,
    noise=0.5,
    seed=0,
    num_jobs=2,
):
    """Writes a synthetic Kaldi dataset under ``root``.

    Layout: ``root/data/<split>/{feats.ark, feats.scp, utt2spk, spk2utt,
    cmvn.ark, cmvn.scp, text}`` and ``root/exp/ali_<split>/{final.mdl,
    num_jobs, ali.1.gz .. ali.<num_jobs>.gz}``.

    Each utterance is a random phone sequence (phones ``1..num_phones``;
    phone 1, "silence", at both ends) through a monophone left-to-right
    model; each HMM state lasts 2-8 frames. Features are the pdf's mean
    (drawn once per pdf, scale 1) + a per-speaker offset + Gaussian noise of
    std ``noise``. Speakers are disjoint across splits and prefix the
    utterance ids (``spk003-utt0007``). The alignments are split over the
    jobs by speaker, as Kaldi's ``split_data.sh`` does.

    Arguments
    ---------
    root : str or os.PathLike
        Output folder (created).
    num_phones : int
        Number of phones.
    num_states : int
        Emitting HMM states per phone.
    feat_dim : int
        Feature dimension.
    utts_per_split : dict
        Split name -> number of utterances.
    speakers_per_split : dict or int, optional
        Split name -> number of speakers (or one number for all splits);
        default: one speaker per 5 utterances.
    binary_model : bool
        Write ``final.mdl`` in Kaldi binary form instead of text.
    text_alignments : bool
        Write the alignment archives as gzip'd Kaldi text.
    noise : float
        Standard deviation of the feature noise.
    seed : int
        Random seed (the output is deterministic for a seed).
    num_jobs : int
        Number of alignment archives per split.

    Returns
    -------
    dict
        ``{"data": {split: path}, "ali": {split: path}, "num_pdfs": int,
        "model": path of a final.mdl, "pdfs": {split: {utt: int32 pdf ids}}}``.

    Example
    -------
    >>> ds = make_kaldi_dataset(getfixture("tmpdir"), utts_per_split={"a": 5})
    >>> ds["num_pdfs"], len(ds["pdfs"]["a"]), sorted(ds["data"])
    (18, 5, ['a'])
    """
    root = os.path.abspath(os.fspath(root))
    rng = np.random.default_rng(seed)
    topo = HmmTopology.left_to_right(range(1, num_phones + 1), num_states)
    model = TransitionModel.monophone(topo)
    num_pdfs = model.num_pdfs
    pdf_means = rng.normal(0.0, 1.0, (num_pdfs, feat_dim))
    model_bytes = model.to_bytes(binary=binary_model) + _gmm_junk(
        num_pdfs, feat_dim, binary_model, rng
    )

    arcs = model.left_to_right_arcs()

    result = {
        "data": {},
        "ali": {},
        "num_pdfs": num_pdfs,
        "model": None,
        "pdfs": {},
    }
    spk_count = 0
    utt_count = 0
    for split, num_utts in utts_per_split.items():
        if speakers_per_split is None:
            num_spk = max(1, round(num_utts / 5))
        elif isinstance(speakers_per_split, int):
            num_spk = speakers_per_split
        else:
            num_spk = speakers_per_split[split]
        num_spk = max(1, min(num_spk, num_utts))
        speakers = [f"spk{spk_count + i:03d}" for i in range(num_spk)]
        spk_count += num_spk
        offsets = {
            spk: rng.normal(0.0, SPEAKER_OFFSET_SCALE, feat_dim)
            for spk in speakers
        }

        feats, alis, pdfs, words, utt2spk = {}, {}, {}, {}, {}
        for i in range(num_utts):
            spk = speakers[i * num_spk // num_utts]
            utt = f"{spk}-utt{utt_count:04d}"
            utt_count += 1
            middle = []
            if num_phones > 1:
                length = int(rng.integers(3, 9))
                middle = rng.integers(2, num_phones + 1, size=length).tolist()
            phones = [SILENCE_PHONE, *middle, SILENCE_PHONE]
            tids = model.alignment_from_durations(
                [
                    (
                        phone,
                        rng.integers(
                            MIN_STATE_FRAMES,
                            MAX_STATE_FRAMES + 1,
                            size=num_states,
                        ).tolist(),
                    )
                    for phone in phones
                ],
                arcs,
            )
            pdf_ids = model.ali_to_pdf(tids)
            mat = (
                pdf_means[pdf_ids]
                + offsets[spk]
                + noise * rng.normal(size=(len(tids), feat_dim))
            )
            feats[utt] = mat.astype(np.float32)
            alis[utt] = tids
            pdfs[utt] = pdf_ids
            words[utt] = " ".join(f"w{p}" for p in middle)
            utt2spk[utt] = spk

        data_dir = os.path.join(root, "data", split)
        os.makedirs(data_dir, exist_ok=True)
        kaldiio.save_ark(
            os.path.join(data_dir, "feats.ark"),
            feats,
            scp=os.path.join(data_dir, "feats.scp"),
        )
        spk2utt = {spk: [] for spk in speakers}
        for utt, spk in utt2spk.items():
            spk2utt[spk].append(utt)
        spk2utt = {spk: utts for spk, utts in spk2utt.items() if utts}
        stats = {
            spk: compute_cmvn_stats(feats[u] for u in utts)
            for spk, utts in spk2utt.items()
        }
        kaldiio.save_ark(
            os.path.join(data_dir, "cmvn.ark"),
            stats,
            scp=os.path.join(data_dir, "cmvn.scp"),
        )
        _write_lines(os.path.join(data_dir, "utt2spk"), utt2spk.items())
        _write_lines(
            os.path.join(data_dir, "spk2utt"),
            ((spk, " ".join(utts)) for spk, utts in spk2utt.items()),
        )
        _write_lines(os.path.join(data_dir, "text"), words.items())

        ali_dir = os.path.join(root, "exp", f"ali_{split}")
        os.makedirs(ali_dir, exist_ok=True)
        model_path = os.path.join(ali_dir, "final.mdl")
        with open(model_path, "wb") as f:
            f.write(model_bytes)
        with open(os.path.join(ali_dir, "num_jobs"), "w") as f:
            f.write(f"{num_jobs}\n")
        groups = np.array_split(np.array(list(spk2utt), dtype=object), num_jobs)
        for job, group in enumerate(groups, 1):
            items = [(utt, alis[utt]) for spk in group for utt in spk2utt[spk]]
            write_int_vectors(
                os.path.join(ali_dir, f"ali.{job}.gz"),
                items,
                text=text_alignments,
            )

        result["data"][split] = data_dir
        result["ali"][split] = ali_dir
        result["pdfs"][split] = pdfs
        if result["model"] is None:
            result["model"] = model_path
    return result
