#!/usr/bin/env python3
"""The bound: a monophone GMM trained on the exact alignments, realigned.

``python local/oracle_gmm.py EXP`` answers "could a GMM-HMM aligner put
the synthesiser's boundaries where they are at all?": it trains a
monophone GMM-HMM (same features, same 3-state topology as the corpus's
alignments, 1000 Gaussians) on the corpus's exact alignments instead of
from a flat start, realigns train with it (Viterbi on the transcripts'
graphs, as ``align``), and scores the result as stage 4 scores the
flat-start alignments. It writes ``EXP/boundaries_oracle.json``.

The lang directory is ``EXP/data/lang_nopos``, made from the same dict
dir without word-position phones and with 3-state silence, so that each
frame of the exact alignments maps to one transition of this model.

Authors
 * sb_rectifier developers 2026
"""

import os
import sys

import numpy as np

from sb_rectifier.decoding.lang import read_symbols
from sb_rectifier.files import write_json
from sb_rectifier.gmm.align import align_utterances
from sb_rectifier.gmm.data import load_training_data
from sb_rectifier.gmm.estimate import accumulate, init_mono, update
from sb_rectifier.gmm.evaluate import boundary_accuracy
from sb_rectifier.gmm.graphs import Lang, compile_graphs
from sb_rectifier.gmm.model import khg_transition_model, our_transition_model
from sb_rectifier.kaldi.alignments import load_transition_ids
from sb_rectifier.kaldi.prepare_lang import prepare_lang

ITERATIONS = 25
NUM_GAUSS = 1000


def _names(path):
    return {i: p for p, i in read_symbols(path).items()}


def map_alignments(ref, ref_model, ref_names, trans_model, names):
    """The exact alignments as transition-ids of ``trans_model``.

    A transition is identified by (phone name, HMM state, self-loop or
    not); both topologies are 3-state left-to-right.
    """
    ours = our_transition_model(trans_model)
    key = {}
    for t in range(1, ours.num_transition_ids + 1):
        name = names[int(ours.tid2phone[t])]
        key[(name, int(ours.tid2hmm_state[t]), trans_model.is_self_loop(t))] = t
    theirs = khg_transition_model(ref_model)
    table = np.zeros(ref_model.num_transition_ids + 1, dtype=np.int32)
    for t in range(1, ref_model.num_transition_ids + 1):
        k = (
            ref_names[int(ref_model.tid2phone[t])],
            int(ref_model.tid2hmm_state[t]),
            theirs.is_self_loop(t),
        )
        if k not in key:
            raise ValueError(
                f"exact alignments: no transition {k} in our model"
            )
        table[t] = key[k]
    return {u: table[a] for u, a in ref.items()}, ours


def main(argv):
    """Trains, realigns, scores; returns the exit status."""
    if len(argv) != 1:
        print("usage: oracle_gmm.py EXP", file=sys.stderr)
        return 1
    exp = argv[0]
    corpus = os.path.join(exp, "corpus")
    lang_dir = os.path.join(exp, "data", "lang_nopos")
    if not os.path.isdir(lang_dir):
        prepare_lang(
            os.path.join(exp, "data", "local", "dict"),
            lang_dir,
            position_dependent_phones=False,
            num_sil_states=3,
        )
    lang = Lang(lang_dir)
    data = load_training_data(
        os.path.join(corpus, "data", "train"),
        lang,
        os.path.join(exp, "exp", "mfcc", "train"),
        num_jobs=2,
    )
    utts = sorted(data.transcripts)
    trans_model, am_gmm, ctx_dep = init_mono(
        lang.topo, [data.feats[u] for u in utts[:10]], shared_phones=lang.sets
    )
    ref, ref_model = load_transition_ids(
        os.path.join(corpus, "exp", "ali_train")
    )
    ref_names = _names(os.path.join(corpus, "data", "lang", "phones.txt"))
    names = _names(os.path.join(lang_dir, "phones.txt"))
    mapped, ours = map_alignments(ref, ref_model, ref_names, trans_model, names)
    alis = {
        u: mapped[u]
        for u in utts
        if u in mapped and len(mapped[u]) == len(data.feats[u])
    }
    print(f"{len(alis)} of {len(utts)} utterances with exact alignments")
    step = max(1, (NUM_GAUSS - am_gmm.num_gauss) // 20)
    for it in range(ITERATIONS):
        stats = accumulate(trans_model, am_gmm, data.feats, alis)
        update(
            trans_model,
            am_gmm,
            stats,
            mix_up=min(NUM_GAUSS, am_gmm.num_gauss + step),
            min_gaussian_occupancy=3.0 if it == 0 else 10.0,
        )
        print(
            f"iter {it}: avg log-likelihood per frame {stats.avg_like:.2f}, "
            f"{am_gmm.num_gauss} Gaussians"
        )
    graphs, failed = compile_graphs(
        trans_model, ctx_dep, lang, {u: data.transcripts[u] for u in alis}
    )
    result = align_utterances(trans_model, am_gmm, graphs, data.feats, jobs=2)
    print(result.summary())
    scores = boundary_accuracy(
        ref, ref_model, ref_names, result.alignments, ours, names
    )
    for tol, pct in scores["within"].items():
        print(f"boundaries within {tol:g} ms: {pct:6.2f} %")
    write_json(os.path.join(exp, "boundaries_oracle.json"), scores)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
