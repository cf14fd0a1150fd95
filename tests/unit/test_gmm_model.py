"""Kaldi GMM final.mdl writing/reading, vectorised statistics and scoring."""

import kaldi_hmm_gmm as khg
import numpy as np
import pytest

from sb_rectifier.gmm.decode import GmmScorer
from sb_rectifier.gmm.estimate import (
    accumulate,
    boost_silence,
    init_mono,
    update,
)
from sb_rectifier.gmm.model import (
    am_from_arrays,
    khg_transition_model,
    our_transition_model,
    read_model,
    write_model,
)
from sb_rectifier.kaldi.hmm_topology import HmmTopology
from sb_rectifier.kaldi.transition_model import TransitionModel

TOPO = (
    "<Topology>\n<TopologyEntry>\n<ForPhones> 2 3 4 </ForPhones>\n"
    "<State> 0 <PdfClass> 0 <Transition> 0 0.75 <Transition> 1 0.25 </State>\n"
    "<State> 1 <PdfClass> 1 <Transition> 1 0.75 <Transition> 2 0.25 </State>\n"
    "<State> 2 <PdfClass> 2 <Transition> 2 0.75 <Transition> 3 0.25 </State>\n"
    "<State> 3 </State>\n</TopologyEntry>\n<TopologyEntry>\n"
    "<ForPhones> 1 </ForPhones>\n"
    "<State> 0 <PdfClass> 0 <Transition> 0 0.5 <Transition> 1 0.5 </State>\n"
    "<State> 1 <PdfClass> 1 <Transition> 1 0.5 <Transition> 2 0.5 </State>\n"
    "<State> 2 </State>\n</TopologyEntry>\n</Topology>\n"
)


def _system(seed=0, dim=5):
    topo = khg.HmmTopology()
    topo.read(TOPO)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, dim)).astype(np.float32)
    tm, am, ctx = init_mono(topo, [x])
    pdfs = []
    for _ in range(tm.num_pdfs):
        g = int(rng.integers(1, 4))
        w = rng.random(g) + 0.1
        pdfs.append(
            (w / w.sum(), rng.normal(size=(g, dim)), rng.random((g, dim)) + 0.5)
        )
    return tm, am_from_arrays(pdfs), ctx, rng


@pytest.mark.parametrize("binary", [True, False])
def test_model_round_trip(tmp_path, binary):
    tm, am, _, rng = _system()
    path = tmp_path / "final.mdl"
    write_model(path, tm, am, binary=binary)
    assert (path.read_bytes()[:2] == b"\0B") == binary
    tm2, am2 = read_model(path)
    assert str(tm2) == str(tm)
    assert tm2.num_pdfs == tm.num_pdfs and am2.num_gauss == am.num_gauss
    x = rng.normal(size=am.dim).astype(np.float32)
    tol = 0.0 if binary else 1e-3
    for pdf in range(am.num_pdfs):
        a, b = am.get_pdf(pdf), am2.get_pdf(pdf)
        assert np.allclose(a.weights, b.weights, atol=tol, rtol=tol)
        assert np.allclose(a.means_invvars, b.means_invvars, atol=tol, rtol=tol)
        assert np.allclose(a.inv_vars, b.inv_vars, atol=tol, rtol=tol)
        assert (
            abs(am.log_likelihood(pdf, x) - am2.log_likelihood(pdf, x))
            <= tol * 10
        )
    # Our TransitionModel reader reads the file; its tid2pdf is Kaldi's.
    ours = TransitionModel.read(path)
    assert (
        ours.tid2pdf[1:].tolist() == list(tm.transition_id_to_pdf_array())[1:]
    )
    assert ours.to_text() == str(tm)


def test_binary_layout(tmp_path):
    """Kaldi's AmDiagGmm::Write order after the transition model."""
    tm, am, _, _ = _system()
    path = tmp_path / "final.mdl"
    write_model(path, tm, am)
    data = path.read_bytes()
    rest = data[
        data.index(b"</TransitionModel> ") + len(b"</TransitionModel> ") :
    ]
    assert rest.startswith(b"<DIMENSION> \x04")
    first = rest.index(b"<DiagGMM> ")
    order = [
        rest.index(t, first)
        for t in (
            b"<GCONSTS> FV ",
            b"<WEIGHTS> FV ",
            b"<MEANS_INVVARS> FM ",
            b"<INV_VARS> FM ",
            b"</DiagGMM> ",
        )
    ]
    assert order == sorted(order)
    assert rest.count(b"<DiagGMM> ") == am.num_pdfs


def test_read_model_errors(tmp_path):
    tm, am, _, _ = _system()
    path = tmp_path / "final.mdl"
    write_model(path, tm, am)
    cut = tmp_path / "cut.mdl"
    cut.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(ValueError, match="cut.mdl"):
        read_model(cut)
    with pytest.raises(FileNotFoundError, match="missing.mdl"):
        read_model(tmp_path / "missing.mdl")
    other = TransitionModel.monophone(HmmTopology.left_to_right([1]))
    with pytest.raises(ValueError, match="pdfs"):
        write_model(tmp_path / "x.mdl", other, am)


def test_transition_model_conversion():
    tm, _, _, _ = _system()
    ours = our_transition_model(tm)
    back = khg_transition_model(ours)
    assert str(back) == str(tm)
    assert back.__getstate__()[2:6] == tm.__getstate__()[2:6]
    assert np.allclose(back.non_self_loop_log_probs, tm.non_self_loop_log_probs)


def test_accumulate_matches_kaldi_per_frame():
    tm, am, _, rng = _system(1)
    x = rng.normal(size=(600, am.dim)).astype(np.float32) * 2 + 0.5
    ali = rng.integers(1, tm.num_transition_ids + 1, size=len(x))
    stats = accumulate(tm, am, {"u": x}, {"u": ali})
    ref = khg.AccumAmDiagGmm()
    ref.init(model=am, flags=khg.GmmUpdateFlags.kGmmAll)
    tid2pdf = tm.transition_id_to_pdf_array()
    like = sum(
        ref.accumulate_for_gmm(
            model=am, data=f, gmm_index=tid2pdf[t], weight=1.0
        )
        for t, f in zip(ali, x, strict=True)
    )
    assert stats.tot_like == pytest.approx(like, rel=1e-7)
    for pdf in range(am.num_pdfs):
        a, b = stats.gmm_accs.get_acc(pdf), ref.get_acc(pdf)
        assert np.allclose(a.occupancy, b.occupancy)
        assert np.allclose(a.mean_accumulator, b.mean_accumulator, atol=1e-4)
        assert np.allclose(
            a.variance_accumulator, b.variance_accumulator, atol=1e-3
        )
    assert stats.trans_accs.sum() == len(x)
    info = update(
        tm, am, stats, mix_up=am.num_gauss + 5, min_gaussian_occupancy=0
    )
    assert info["num_gauss"] == am.num_gauss >= 1


def test_boost_silence_and_scorer():
    tm, am, _, rng = _system(2)
    x = rng.normal(size=(7, am.dim)).astype(np.float32)
    loglikes = GmmScorer(am)(x)
    expected = np.array(
        [[am.log_likelihood(p, f) for p in range(am.num_pdfs)] for f in x]
    )
    assert np.allclose(loglikes, expected, atol=1e-3)
    boosted = boost_silence(tm, am, [1], 1.25)
    _, sil_pdfs = khg.get_pdfs_for_phones(tm, [1])
    diff = GmmScorer(boosted)(x) - loglikes
    for pdf in range(am.num_pdfs):
        want = np.log(1.25) if pdf in sil_pdfs else 0.0
        assert np.allclose(diff[:, pdf], want, atol=1e-4)


def _random_am(rng, num_pdfs, dim):
    from sb_rectifier.gmm.model import am_from_arrays

    return am_from_arrays(
        [
            (
                np.ones(1),
                rng.normal(size=(1, dim)),
                rng.uniform(0.5, 2.0, size=(1, dim)),
            )
            for _ in range(num_pdfs)
        ]
    )


def test_split_by_count_is_kaldis_and_reproducible():
    """The Gaussians per pdf are those of Kaldi's own SplitByCount (khg's),
    weights still sum to 1 per pdf, the split halves straddle the original
    mean; and unlike khg's (std::random_device), the same seed gives the
    same model."""
    from sb_rectifier.gmm.estimate import split_by_count
    from sb_rectifier.gmm.model import am_to_arrays

    rng = np.random.default_rng(0)
    occs = rng.uniform(0, 3000, size=40).astype(np.float32)
    occs[3] = 15.0  # below min_count: stays at one Gaussian
    ours, theirs, again = (
        _random_am(np.random.default_rng(1), 40, 5) for _ in range(3)
    )
    before = am_to_arrays(ours)
    for target in (90, 200, 260):
        theirs.split_by_count(
            state_occs=occs,
            target_components=target,
            perturb_factor=0.01,
            power=0.25,
            min_count=20.0,
        )
        split_by_count(ours, occs, target, 0.01, 0.25, 20.0, seed=7)
        split_by_count(again, occs, target, 0.01, 0.25, 20.0, seed=7)
        got = [ours.num_gauss_in_pdf(i) for i in range(40)]
        assert got == [theirs.num_gauss_in_pdf(i) for i in range(40)]
        assert ours.num_gauss == theirs.num_gauss == target
    assert got[3] == 1
    for (gc, w, mi, iv), (gc2, w2, mi2, iv2), (_, _w0, mi0, iv0) in zip(
        am_to_arrays(ours), am_to_arrays(again), before, strict=True
    ):
        for a, b in ((gc, gc2), (w, w2), (mi, mi2), (iv, iv2)):
            np.testing.assert_array_equal(a, b)
        assert w.sum() == pytest.approx(1.0, abs=1e-6)
        # every component keeps the variance; the weighted mean is the
        # original mean (the perturbations cancel in pairs)
        np.testing.assert_allclose(iv, np.broadcast_to(iv0, iv.shape))
        mean = (w[:, None] * mi / iv).sum(0)
        np.testing.assert_allclose(mean, mi0[0] / iv0[0], atol=1e-5)
    other = _random_am(np.random.default_rng(1), 40, 5)
    split_by_count(other, occs, 260, seed=8)
    assert not np.array_equal(
        am_to_arrays(other)[0][2], am_to_arrays(ours)[0][2]
    )
