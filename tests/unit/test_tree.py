"""Tests of the Kaldi tree-building port (sb_rectifier.gmm.tree, tree_init).

Authors
 * sb_rectifier developers 2026
"""

import glob
import itertools
import math
import os
import wave

import numpy as np
import pytest

khg = pytest.importorskip("kaldi_hmm_gmm")

from sb_rectifier.gmm.tree import (  # noqa: E402
    _TOPO_1STATE,
    _TOPO_3STATE,
    GaussStats,
    accumulate_tree_stats,
    build_tree,
    context_dependency_to_tree,
    make_questions,
    map_event,
    read_tree,
    write_tree,
)
from sb_rectifier.gmm.tree_init import (  # noqa: E402
    convert_alignments,
    init_gmm_from_tree,
)

LOG_2PI = math.log(2 * math.pi)


def _topo(template, phones):
    topo = khg.HmmTopology()
    topo.read(template.format(phones=" ".join(str(p) for p in phones)))
    return topo


def _g(count, mean, var):
    """1-dim Gaussian stats with the given count, mean and variance."""
    return GaussStats(
        float(count),
        np.array([count * mean]),
        np.array([count * (var + mean**2)]),
    )


def _objf(count, var):  # by hand: ML Gaussian log-likelihood of 1-dim data
    return -0.5 * count * (1 + math.log(var) + LOG_2PI)


def _stats_left(contexts):
    """Phone 2 (1-state) in left contexts ``{left: (count, mean, var)}``."""
    return {
        ((-1, 0), (0, left), (1, 2), (2, 0)): _g(*cmv)
        for left, cmv in contexts.items()
    }


def test_best_split_and_gain_by_hand():
    # left 1 and 2: N(0, 1), left 3: N(4, 1), 10 frames each.
    stats = _stats_left(
        {1: (10, 0.0, 1.0), 2: (10, 0.0, 1.0), 3: (10, 4.0, 1.0)}
    )
    topo = _topo(_TOPO_1STATE, [1, 2, 3])
    ctx, info = build_tree(
        stats,
        [([2], True, True)],
        [[3], [1], [1, 2]],
        topo,
        num_leaves=2,
        thresh=0.1,
        cluster_thresh=0,
        round_num_leaves=False,
    )
    # pooled: 30 frames, mean 4/3, var 190/30 - 16/9 = 41/9
    expected = 2 * _objf(10, 1.0) + _objf(10, 1.0) - _objf(30, 41 / 9)
    assert math.isclose(expected, 15 * math.log(41 / 9))
    assert info["likelihood_gain"] == pytest.approx(expected, rel=1e-9)
    assert info["splits_per_key"] == {0: 1}
    tree = info["tree"]
    # {1, 2} comes first among the equivalent questions ({1,2} / {3})
    assert tree[0] == "SE" and tree[1] == 0 and tree[2] == [1, 2]
    leaf = {left: ctx.compute([left, 2, 0], 0) for left in (1, 2, 3)}
    assert leaf[1] == leaf[2] != leaf[3]
    assert info["num_leaves"] == 2


def test_num_leaves_respected_and_split_order():
    rng = np.random.default_rng(0)
    stats = {}
    for left, right in itertools.product(range(0, 6), range(0, 6)):
        for centre in (1, 2, 3, 4, 5):
            for pc in (0, 1, 2):
                stats[((-1, pc), (0, left), (1, centre), (2, right))] = _g(
                    rng.integers(5, 50), rng.normal(left - right + pc, 1), 1.0
                )
    topo = _topo(_TOPO_3STATE, [1, 2, 3, 4, 5])
    roots = [([p], True, True) for p in range(1, 6)]
    qs = [[p] for p in range(1, 6)] + [[1, 2], [3, 4, 5], [1, 3, 5]]
    for n in (5, 12, 30):
        ctx, info = build_tree(
            stats,
            roots,
            qs,
            topo,
            num_leaves=n,
            thresh=1e-3,
            cluster_thresh=0,
            round_num_leaves=False,
        )
        assert info["num_leaves"] == n == ctx.num_pdfs
        assert info["num_splits"] == n - 5
    ctx, info = build_tree(stats, roots, qs, topo, num_leaves=30, thresh=1e-3)
    assert info["num_leaves"] <= 30 and info["num_leaves"] % 8 == 0


def test_leaf_clustering_with_threshold():
    # left 1 / 2 almost identical, left 3 far away: 3 leaves after splitting
    stats = _stats_left(
        {1: (50, 0.0, 1.0), 2: (50, 0.05, 1.0), 3: (50, 8.0, 1.0)}
    )
    topo = _topo(_TOPO_1STATE, [1, 2, 3])
    args = (stats, [([2], True, True)], [[1], [2], [3]], topo)
    kw = {"num_leaves": 3, "thresh": 1e-6, "round_num_leaves": False}
    _, no_cluster = build_tree(*args, cluster_thresh=0, **kw)
    assert no_cluster["num_leaves"] == 3 and no_cluster["num_removed"] == 0
    # {1} vs {2}: gain = objf(split) - objf(pooled)
    small = 2 * _objf(50, 1.0) - _objf(100, 1.0 + 0.025**2)
    assert no_cluster["smallest_split"] == pytest.approx(small, rel=1e-6)
    ctx, merged = build_tree(*args, cluster_thresh=-1, **kw)
    assert merged["num_leaves"] == 2 and merged["num_removed"] == 1
    assert ctx.compute([1, 2, 0], 0) == ctx.compute([2, 2, 0], 0)
    assert ctx.compute([1, 2, 0], 0) != ctx.compute([3, 2, 0], 0)
    _, kept = build_tree(*args, cluster_thresh=small / 2, **kw)
    assert kept["num_leaves"] == 3


def test_questions_from_clustering_contain_extra_questions():
    stats = {}
    for p, m in [(1, 0.0), (2, 0.2), (3, 6.0), (4, 6.3), (5, 20.0)]:
        stats[((-1, 1), (0, 0), (1, p), (2, 0))] = _g(20, m, 1.0)
    extra = [[5, 1], [2, 3]]
    qs = make_questions(stats, [[1], [2], [3], [4], [5]], extra_questions=extra)
    assert qs[0] == [1, 2, 3, 4, 5]
    assert [1, 5] in qs and [2, 3] in qs
    for p in range(1, 6):
        assert [p] in qs
    # the clustering groups the close phones
    assert [1, 2] in qs and [3, 4] in qs and [1, 2, 3, 4] in qs
    assert [2, 3, 4] not in qs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus

    root = tmp_path_factory.mktemp("tree_corpus")
    make_corpus(
        str(root),
        CorpusConfig(hours=0.01, seed=3),
        num_workers=1,
        progress=False,
    )
    return str(root)


def _mfcc(wav_path):
    import torch
    from torchaudio.compliance.kaldi import mfcc

    with wave.open(wav_path, "rb") as w:
        rate = w.getframerate()
        assert w.getsampwidth() == 2
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return mfcc(
        torch.from_numpy(samples.astype(np.float32)).unsqueeze(0),
        sample_frequency=rate,
        num_ceps=13,
        frame_length=25.0,
        frame_shift=10.0,
        dither=0.0,
        energy_floor=0.0,
    ).numpy()


@pytest.fixture(scope="module")
def tri(corpus):
    from sb_rectifier.kaldi import TransitionModel
    from sb_rectifier.kaldi.archives import read_int_vectors

    topo = khg.HmmTopology()
    with open(os.path.join(corpus, "data", "lang", "topo")) as f:
        topo.read(f.read())
    mono = khg.TransitionModel(
        khg.monophone_context_dependency(
            topo.phones, topo.get_phone_to_num_pdf_classes()
        ),
        topo,
    )
    ali_dir = os.path.join(corpus, "exp", "ali_train")
    ours = TransitionModel.read(os.path.join(ali_dir, "final.mdl"))
    assert ours.num_transition_ids == mono.num_transition_ids
    assert list(ours.tid2pdf[1:]) == list(mono.transition_id_to_pdf_array()[1:])
    assert [mono.transition_id_to_phone(t) for t in range(1, 10)] == list(
        ours.tid2phone[1:10]
    )
    ali = {}
    for path in sorted(glob.glob(os.path.join(ali_dir, "ali.*.gz"))):
        ali.update({u: np.asarray(a) for u, a in read_int_vectors(path)})
    feats = {
        u: _mfcc(os.path.join(corpus, "wav", "train", f"{u}.wav")) for u in ali
    }
    for u in ali:
        assert len(feats[u]) == len(ali[u]), u
    sil = [1]
    stats = accumulate_tree_stats(feats, ali, mono, ci_phones=sil)
    nonsil = [p for p in topo.phones if p not in sil]
    qs = make_questions(
        stats, [[p] for p in topo.phones], extra_questions=[sil, nonsil]
    )
    roots = [([p], True, True) for p in topo.phones]
    # one shared root per phone: the stub alone has one leaf per phone
    # (about 60 here), so ask for 100 leaves (50 would not split at all,
    # exactly as Kaldi's build-tree --max-leaves 50)
    ctx, info = build_tree(stats, roots, qs, topo, num_leaves=100, thresh=10.0)
    return {
        "topo": topo,
        "mono": mono,
        "ali": ali,
        "feats": feats,
        "stats": stats,
        "qs": qs,
        "ctx": ctx,
        "info": info,
    }


def test_stats_are_pooled_frames(tri):
    stats, feats, ali = tri["stats"], tri["feats"], tri["ali"]
    total = sum(len(a) for a in ali.values())
    assert sum(s.count for s in stats.values()) == total
    all_x = np.concatenate(list(feats.values())).astype(np.float64)
    got = np.sum([s.x for s in stats.values()], axis=0)
    np.testing.assert_allclose(got, all_x.sum(0), rtol=1e-6, atol=1e-6)
    # silence (CI) events carry no context keys; others carry all three
    for ev in stats:
        keys = [k for k, _ in ev]
        assert keys == ([-1, 1] if dict(ev)[1] == 1 else [-1, 0, 1, 2])


def test_tree_on_corpus(tri, tmp_path):
    ctx, info, topo = tri["ctx"], tri["info"], tri["topo"]
    assert info["num_stub_leaves"] < info["num_leaves"] <= 100
    assert info["num_leaves"] % 8 == 0
    assert ctx.num_pdfs == info["num_leaves"] and ctx.context_width == 3
    assert (
        info["likelihood_gain"] > 0 and sum(info["splits_per_key"].values()) > 0
    )
    # khg's ContextDependency agrees with the Python map on every context
    tree = info["tree"]
    phones = [0] + list(topo.phones)
    seen = set()
    for left, c, right in itertools.product(phones, topo.phones, phones):
        for pc in range(3):
            ok, pdf = ctx.compute([left, c, right], pc)
            ev = [(-1, pc), (0, left), (1, c), (2, right)]
            assert ok and pdf == map_event(tree, ev)
            seen.add(pdf)
    assert seen == set(range(ctx.num_pdfs))
    # file identical to khg's writer (binary and text) and read back
    for binary in (True, False):
        ours, theirs = tmp_path / f"ours{binary}", tmp_path / f"khg{binary}"
        write_tree(ctx, ours, binary=binary)
        ctx.write(binary, str(theirs))
        assert ours.read_bytes() == theirs.read_bytes()
        for path in (ours, theirs):
            back = read_tree(path)
            assert context_dependency_to_tree(back)[0] == tree
    with pytest.raises(ValueError, match="bad"):
        bad = tmp_path / "bad"
        bad.write_bytes(ours.read_bytes().replace(b"TE", b"XE", 1))
        read_tree(bad)


def test_init_gmm_and_convert_alignment(tri):
    ctx, stats, topo, mono, ali = (
        tri["ctx"],
        tri["stats"],
        tri["topo"],
        tri["mono"],
        tri["ali"],
    )
    tm, am = init_gmm_from_tree(ctx, stats, topo)
    assert am.num_pdfs == ctx.num_pdfs == tm.num_pdfs
    # means = pooled stats of the events the tree maps to each leaf
    tree = tri["info"]["tree"]
    pooled = {}
    for ev, s in stats.items():
        leaf = map_event(tree, ev)
        c, x = pooled.get(leaf, (0.0, 0.0))
        pooled[leaf] = (c + s.count, x + s.x)
    for leaf, (c, x) in pooled.items():
        np.testing.assert_allclose(
            am.get_gaussian_mean(leaf, 0), x / c, rtol=1e-5
        )
        assert np.all(am.get_gaussian_variance(leaf, 0) >= 0.01 * (1 - 1e-6))
    new = convert_alignments(ali, mono, tm, ctx)
    for utt, old in ali.items():
        conv = new[utt]
        assert conv.shape == old.shape
        old_ph = [mono.transition_id_to_phone(int(t)) for t in old]
        new_ph = [tm.transition_id_to_phone(int(t)) for t in conv]
        assert old_ph == new_ph
        starts_old = [
            mono.transition_ids_is_start_of_phone(int(t)) for t in old
        ]
        starts_new = [tm.transition_ids_is_start_of_phone(int(t)) for t in conv]
        assert starts_old == starts_new
        assert [tm.is_self_loop(int(t)) for t in conv] == [
            mono.is_self_loop(int(t)) for t in old
        ]
    # the pdfs of the converted alignment are the tree's leaves
    utt = next(iter(ali))
    pdfs = {tm.transition_id_to_pdf(int(t)) for t in new[utt]}
    assert pdfs <= set(range(ctx.num_pdfs))
    bad = {"broken": np.array([2, 2, 2], dtype=np.int32)}
    with pytest.raises(ValueError, match="broken"):
        convert_alignments(bad, mono, tm, ctx)


def _tid(info, phone, hmm_state, loop):
    """The transition-id of (phone, HMM state, self-loop or forward)."""
    for tid in range(1, info.num_tids + 1):
        if (
            info.tid2phone[tid] == phone
            and info.tid2hmm_state[tid] == hmm_state
            and info.tid_is_self_loop[tid] == loop
        ):
            return tid
    raise AssertionError((phone, hmm_state, loop))


@pytest.mark.parametrize("reordered", [False, True])
def test_split_to_phones_first_phone_without_self_loops(reordered):
    """Kaldi's IsReordered decides at the first change of transition state
    that involves a self-loop; a phone of one frame per state (forward
    transitions only) at the start must not decide it."""
    from sb_rectifier.gmm.tree import _TidInfo

    topo = _topo(_TOPO_3STATE, [1, 2])
    tm = khg.TransitionModel(
        khg.monophone_context_dependency([1, 2], [0, 3, 3]), topo
    )
    info = _TidInfo(tm)

    def state(phone, s, frames):
        fwd, loop = _tid(info, phone, s, False), _tid(info, phone, s, True)
        loops = [loop] * (frames - 1)
        return [fwd] + loops if reordered else loops + [fwd]

    first = [t for s in range(3) for t in state(1, s, 1)]  # 3 frames
    second = state(2, 0, 2) + state(2, 1, 1) + state(2, 2, 3)  # 6 frames
    third = state(1, 0, 1) + state(1, 1, 4) + state(1, 2, 1)  # 6 frames
    tids = np.array(first + second + third)
    got = info.split_to_phones(tids, "utt1")
    np.testing.assert_array_equal(got, [[0, 3], [3, 9], [9, 15]])
    # a phone cut off before its final state is an error naming the utt
    with pytest.raises(ValueError, match="utt1: alignment does not end"):
        info.split_to_phones(tids[:-1] if not reordered else tids[:-2], "utt1")
