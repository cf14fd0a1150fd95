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
