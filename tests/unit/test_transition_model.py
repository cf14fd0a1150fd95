"""HmmTopology / TransitionModel against Kaldi's own C++ (kaldi_hmm_gmm)."""

import struct

import kaldi_hmm_gmm as khg
import numpy as np
import pytest

from sb_rectifier.kaldi.hmm_topology import HmmState, HmmTopology
from sb_rectifier.kaldi.transition_model import TransitionModel

# Kaldi's standard topology: 3-state phones and a 5-state silence whose
# middle states are fully connected (utils/gen_topo.pl).
TOPO = """<Topology>
<TopologyEntry>
<ForPhones>
3 4 5 6 7
</ForPhones>
<State> 0 <PdfClass> 0 <Transition> 0 0.75 <Transition> 1 0.25 </State>
<State> 1 <PdfClass> 1 <Transition> 1 0.75 <Transition> 2 0.25 </State>
<State> 2 <PdfClass> 2 <Transition> 2 0.75 <Transition> 3 0.25 </State>
<State> 3 </State>
</TopologyEntry>
<TopologyEntry>
<ForPhones>
1 2
</ForPhones>
<State> 0 <PdfClass> 0 <Transition> 0 0.25 <Transition> 1 0.25 <Transition> 2 0.25 <Transition> 3 0.25 </State>
<State> 1 <PdfClass> 1 <Transition> 1 0.25 <Transition> 2 0.25 <Transition> 3 0.25 <Transition> 4 0.25 </State>
<State> 2 <PdfClass> 2 <Transition> 1 0.25 <Transition> 2 0.25 <Transition> 3 0.25 <Transition> 4 0.25 </State>
<State> 3 <PdfClass> 3 <Transition> 1 0.25 <Transition> 2 0.25 <Transition> 3 0.25 <Transition> 4 0.25 </State>
<State> 4 <PdfClass> 4 <Transition> 4 0.75 <Transition> 5 0.25 </State>
<State> 5 </State>
</TopologyEntry>
</Topology>
"""

# A chain-style topology: separate forward / self-loop pdf classes.
CHAIN_TOPO = """<Topology>
<TopologyEntry>
<ForPhones> 1 2 3 </ForPhones>
<State> 0 <ForwardPdfClass> 0 <SelfLoopPdfClass> 1
  <Transition> 0 0.5 <Transition> 1 0.5 </State>
<State> 1 </State>
</TopologyEntry>
</Topology>
"""


def _khg_model(topo_text):
    topo = khg.HmmTopology()
    topo.read(topo_text)
    tree = khg.monophone_context_dependency(
        topo.phones, topo.get_phone_to_num_pdf_classes()
    )
    return khg.TransitionModel(tree, topo)


@pytest.fixture(params=[TOPO, CHAIN_TOPO], ids=["hmm", "chain"])
def kaldi_pair(request, tmp_path):
    """(Kaldi C++ model, our model read from Kaldi's text, topology text)."""
    ktm = _khg_model(request.param)
    path = tmp_path / "final.mdl"
    path.write_text(str(ktm))
    return ktm, TransitionModel.read(path), request.param


def test_tables_match_kaldi(kaldi_pair):
    ktm, tm, _ = kaldi_pair
    n = ktm.num_transition_ids
    assert tm.num_transition_ids == n
    assert tm.num_pdfs == ktm.num_pdfs
    assert tm.num_transition_states == ktm.num_transition_states
    assert tm.num_phones == len(ktm.phones)
    # khg's array is Kaldi's id2pdf_id_: indexed by transition-id, length
    # n + 1, entry 0 unused (0 there); ours has -1 at index 0.
    kaldi_tid2pdf = np.array(ktm.transition_id_to_pdf_array())
    assert kaldi_tid2pdf.shape == (n + 1,)
    np.testing.assert_array_equal(tm.tid2pdf[1:], kaldi_tid2pdf[1:])
    assert tm.tid2pdf[0] == -1 and tm.tid2phone[0] == -1
    for tid in range(1, n + 1):
        assert tm.tid2pdf[tid] == ktm.transition_id_to_pdf(tid)
        assert tm.tid2phone[tid] == ktm.transition_id_to_phone(tid)
        assert bool(tm.tid_is_self_loop[tid]) == ktm.is_self_loop(tid)
    np.testing.assert_array_equal(tm.tid2tstate[1:], ktm.id2state[1:])
    assert tm.tuples == [tuple(t.__getstate__()) for t in ktm.tuples]


def test_text_write_is_kaldi_byte_exact(kaldi_pair, tmp_path):
    ktm, tm, _ = kaldi_pair
    out = tmp_path / "copy.mdl"
    tm.write(out)
    assert out.read_text() == str(ktm)


def test_monophone_matches_kaldi(kaldi_pair):
    ktm, _, topo_text = kaldi_pair
    ours = TransitionModel.monophone(HmmTopology.from_text(topo_text))
    assert ours.tuples == [tuple(t.__getstate__()) for t in ktm.tuples]
    # Initial log-probs computed in float32 exactly as Kaldi does.
    np.testing.assert_array_equal(
        ours.log_probs, np.array(ktm.log_probs, dtype=np.float32)
    )
    assert ours.to_text() == str(ktm)
    assert ours.is_hmm == ktm.topo.is_hmm


def test_topology_text_matches_kaldi():
    for text in (TOPO, CHAIN_TOPO):
        topo = khg.HmmTopology()
        topo.read(text)
        ours = HmmTopology.from_text(text)
        assert ours.to_text() == str(topo)
        assert ours.phones == list(topo.phones)
        for phone in ours.phones:
            assert ours.num_pdf_classes(phone) == topo.num_pdf_classes(phone)
            kaldi_states = topo.topology_for_phone(phone)
            for state, kstate in zip(
                ours.topology_for_phone(phone), kaldi_states, strict=True
            ):
                assert state.forward_pdf_class == kstate.forward_pdf_class
                assert state.self_loop_pdf_class == kstate.self_loop_pdf_class
                assert state.transitions == kstate.transitions


def test_left_to_right_matches_kaldi_text():
    ours = HmmTopology.left_to_right([1, 2, 3, 4], num_states=3)
    topo = khg.HmmTopology()
    topo.read(
        "<Topology> <TopologyEntry> <ForPhones> 1 2 3 4 </ForPhones>"
        " <State> 0 <PdfClass> 0 <Transition> 0 0.75 <Transition> 1 0.25"
        " </State> <State> 1 <PdfClass> 1 <Transition> 1 0.75 <Transition>"
        " 2 0.25 </State> <State> 2 <PdfClass> 2 <Transition> 2 0.75"
        " <Transition> 3 0.25 </State> <State> 3 </State> </TopologyEntry>"
        " </Topology>"
    )
    assert ours.to_text() == str(topo)


def test_binary_round_trip(kaldi_pair, tmp_path):
    _, tm, _ = kaldi_pair
    path = tmp_path / "bin.mdl"
    tm.write(path, binary=True)
    data = path.read_bytes()
    assert data.startswith(b"\0B<TransitionModel> <Topology> ")
    back = TransitionModel.read(path)
    assert back == tm
    np.testing.assert_array_equal(back.tid2pdf, tm.tid2pdf)
    np.testing.assert_array_equal(back.log_probs, tm.log_probs)
    assert back.to_text() == tm.to_text()


def _kaldi_binary_bytes():
    """A binary model built by hand from Kaldi's format (independent).

    One phone, one emitting state (self-loop 0.75, forward 0.25).
    """

    def i32(v):
        return b"\x04" + struct.pack("<i", v)

    def f32(v):
        return b"\x04" + struct.pack("<f", v)

    def ivec(values):
        return b"\x04" + struct.pack(f"<i{len(values)}i", len(values), *values)

    log_probs = np.log(np.array([1.0, 0.75, 0.25], dtype=np.float32))
    log_probs[0] = 0.0
    return (
        b"\0B<TransitionModel> <Topology> "
        + ivec([1])
        + ivec([-1, 0])
        + i32(1)  # entries
        + i32(2)  # states in the entry
        + i32(0)  # pdf class of state 0
        + i32(2)
        + i32(0)
        + f32(0.75)
        + i32(1)
        + f32(0.25)
        + i32(-1)  # final state: no pdf class
        + i32(0)
        + b"</Topology> <Triples> "
        + i32(1)
        + i32(1)
        + i32(0)
        + i32(0)
        + b"</Triples> <LogProbs> FV "
        + i32(3)
        + log_probs.astype("<f4").tobytes()
        + b"</LogProbs> </TransitionModel> "
    )


def test_binary_format_is_kaldis(tmp_path):
    expected = _kaldi_binary_bytes()
    tm = TransitionModel.monophone(HmmTopology.left_to_right([1], 1))
    assert tm.to_bytes(binary=True) == expected
    path = tmp_path / "final.mdl"
    path.write_bytes(expected + b"<DIMENSION> \x04\x0d\x00\x00\x00 junk \xff")
    back = TransitionModel.read(path)
    assert back.tuples == [(1, 0, 0, 0)]
    assert back.tid2pdf.tolist() == [-1, 0, 0]
    assert back.tid_is_self_loop.tolist() == [False, True, False]
    assert back.log_probs[1] == np.float32(np.log(np.float32(0.75)))


def test_binary_chain_topology_has_marker(tmp_path):
    topo = HmmTopology.from_text(CHAIN_TOPO)
    tm = TransitionModel.monophone(topo)
    data = tm.to_bytes(binary=True)
    # phones vector (3 phones) and phone2idx (4 entries), then the -1 marker.
    head = len(b"\0B<TransitionModel> <Topology> ")
    marker_at = head + 5 + 4 * 3 + 5 + 4 * 4
    assert data[marker_at : marker_at + 5] == b"\x04" + struct.pack("<i", -1)
    assert b"<Tuples> " in data
    path = tmp_path / "chain.mdl"
    path.write_bytes(data)
    back = TransitionModel.read(path)
    assert back == tm and not back.is_hmm
    assert back.tid2pdf.tolist() == [-1, 1, 0, 3, 2, 5, 4]


@pytest.mark.parametrize("binary", [False, True])
def test_model_followed_by_gmm_reads(tmp_path, binary):
    tm = TransitionModel.monophone(HmmTopology.from_text(TOPO))
    junk = (
        b"<DIMENSION> 13 <NUMPDFS> 25 <DiagGMM> <GCONSTS> [ 1 2 ] "
        if not binary
        else b"<DIMENSION> \x04\x0d\x00\x00\x00<NUMPDFS> \x04\x19\x00\x00\x00"
        + bytes(range(256))
    )
    path = tmp_path / "final.mdl"
    path.write_bytes(tm.to_bytes(binary=binary) + junk)
    back = TransitionModel.read(path)
    assert (
        back.num_pdfs == 25 and back.num_transition_ids == tm.num_transition_ids
    )
    np.testing.assert_array_equal(back.tid2pdf, tm.tid2pdf)
    assert back.source == str(path)


def test_precision_seven_like_kaldi_tools():
    tm = TransitionModel.monophone(HmmTopology.left_to_right([1], 1))
    assert " [ 0 -0.287682 -1.38629 ]" in tm.to_text()
    assert " [ 0 -0.2876821 -1.386294 ]" in tm.to_text(precision=7)


def test_ali_to_pdf_and_phones():
    tm = TransitionModel.monophone(HmmTopology.from_text(TOPO))
    ktm = _khg_model(TOPO)
    ali = np.arange(1, tm.num_transition_ids + 1)[::-1]
    np.testing.assert_array_equal(
        tm.ali_to_pdf(ali), [ktm.transition_id_to_pdf(int(t)) for t in ali]
    )
    np.testing.assert_array_equal(
        tm.ali_to_phones(ali), [ktm.transition_id_to_phone(int(t)) for t in ali]
    )
    assert tm.ali_to_pdf(ali).dtype == np.int32
    assert tm.ali_to_pdf([]).shape == (0,)


def test_ali_to_pdf_out_of_range_names_context(tmp_path):
    path = tmp_path / "final.mdl"
    TransitionModel.monophone(HmmTopology.left_to_right([1, 2])).write(path)
    tm = TransitionModel.read(path)
    with pytest.raises(ValueError) as err:
        tm.ali_to_pdf([1, 2, 13, 0], context="ali.2.gz: utterance 'spk1-utt3'")
    message = str(err.value)
    assert message.startswith("ali.2.gz: utterance 'spk1-utt3': ")
    assert "transition-id 13 at frame 2 out of range 1..12" in message
    assert str(path) in message and "2 of 4 frames" in message
    with pytest.raises(ValueError, match="1-D integer array"):
        tm.ali_to_pdf(np.array([1.0, 2.0]))


def test_read_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.mdl"
    with pytest.raises(FileNotFoundError, match="nope.mdl"):
        TransitionModel.read(missing)
    nnet1 = tmp_path / "nnet1.mdl"
    nnet1.write_text("<Nnet> <AffineTransform> 3 3 </Nnet>\n")
    with pytest.raises(ValueError, match=r"nnet1\.mdl: .*<TransitionModel>"):
        TransitionModel.read(nnet1)
    good = TransitionModel.monophone(HmmTopology.from_text(TOPO))
    truncated = tmp_path / "truncated.mdl"
    truncated.write_bytes(good.to_bytes(binary=True)[:200])
    with pytest.raises(ValueError, match=r"truncated\.mdl: .*end of file"):
        TransitionModel.read(truncated)
    text = good.to_text().replace("<LogProbs>", "<LogProb>")
    bad_text = tmp_path / "bad.mdl"
    bad_text.write_text(text)
    with pytest.raises(ValueError, match=r"bad\.mdl: expected <LogProbs>"):
        TransitionModel.read(bad_text)
    cut_text = tmp_path / "cut.mdl"
    cut_text.write_text(good.to_text()[:300])
    with pytest.raises(ValueError, match=r"cut\.mdl: no </TransitionModel>"):
        TransitionModel.read(cut_text)


def test_invalid_topologies_are_rejected():
    with pytest.raises(ValueError, match="expected 1, got 2"):
        HmmTopology.from_text(
            "<Topology> <TopologyEntry> <ForPhones> 1 </ForPhones> "
            "<State> 0 <PdfClass> 0 <Transition> 1 1.0 </State> "
            "<State> 2 </State> </TopologyEntry> </Topology>"
        )
    with pytest.raises(ValueError, match="last state must be non-emitting"):
        HmmTopology([[HmmState(0, 0, [(1, 1.0)]), HmmState(1, 1)]], [[1]])
    with pytest.raises(ValueError, match="multiple topology entries"):
        state = [HmmState(0, 0, [(1, 1.0)]), HmmState()]
        HmmTopology([state, state], [[1], [1]])
    with pytest.raises(ValueError, match="phone 9 is not covered"):
        HmmTopology.left_to_right([1]).topology_for_phone(9)


def test_invalid_tuples_and_log_probs_are_rejected():
    topo = HmmTopology.left_to_right([1])
    with pytest.raises(ValueError, match="sorted and unique"):
        TransitionModel(topo, [(1, 1, 1, 1), (1, 0, 0, 0), (1, 2, 2, 2)])
    with pytest.raises(ValueError, match="no emitting HMM state 3"):
        TransitionModel(topo, [(1, 3, 0, 0)])
    with pytest.raises(ValueError, match="different from its forward pdf"):
        TransitionModel(topo, [(1, 0, 0, 1), (1, 1, 1, 1), (1, 2, 2, 2)])
    with pytest.raises(ValueError, match="expected 7"):
        TransitionModel(topo, [(1, 0, 0), (1, 1, 1), (1, 2, 2)], [0.0, -1.0])


def test_kaldi_style_lookups():
    tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    tstate = tm.tuple_to_transition_state(2, 1, 4, 4)
    assert tstate == 5
    loop = tm.self_loop_of(tstate)
    assert tm.tid_is_self_loop[loop] and tm.tid2pdf[loop] == 4
    forward = tm.pair_to_transition_id(tstate, 1)
    assert tm.tid2dest[forward] == 2 and tm.tid2tstate[forward] == tstate
