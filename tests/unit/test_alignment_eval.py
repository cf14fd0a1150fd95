"""Phone boundary accuracy (sb_rectifier.gmm.evaluate, compare-alignments)."""

import pytest

from sb_rectifier.cli.main import main
from sb_rectifier.gmm.evaluate import boundary_accuracy, phone_segments
from sb_rectifier.kaldi.archives import write_int_vectors
from sb_rectifier.kaldi.hmm_topology import HmmTopology
from sb_rectifier.kaldi.transition_model import TransitionModel

# Reference phones: SIL a b; hypothesis phones: position-dependent ones.
REF_NAMES = {1: "SIL", 2: "a", 3: "b"}
HYP_NAMES = {1: "SIL", 2: "a_B", 3: "a_E", 4: "b_S", 5: "SPN"}


@pytest.fixture(scope="module")
def ref_tm():
    return TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3]))


@pytest.fixture(scope="module")
def hyp_tm():
    return TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3, 4, 5]))


def _ali(tm, segments):
    return tm.alignment_from_durations(segments)


def test_segments_split_a_repeated_phone(ref_tm):
    ali = _ali(ref_tm, [(2, [1, 1, 1]), (2, [1, 2, 1]), (1, [1, 1, 1])])
    assert phone_segments(ali, ref_tm) == [(2, 0, 3), (2, 3, 7), (1, 7, 10)]


def test_exact_shifted_and_suffixed(ref_tm, hyp_tm):
    # ref: SIL(0-3) a(3-6) b(6-9) SIL(9-12)
    ref = {
        "u": _ali(
            ref_tm,
            [(1, [1, 1, 1]), (2, [1, 1, 1]), (3, [1, 1, 1]), (1, [1, 1, 1])],
        )
    }
    # hyp: SIL(0-5) a_B(5-8) b_S(8-12): a and b start 20 ms late, a ends
    # 20 ms late, b 30 ms; a_B and b_S count as a and b.
    hyp = {"u": _ali(hyp_tm, [(1, [3, 1, 1]), (2, [1, 1, 1]), (4, [1, 1, 2])])}
    r = boundary_accuracy(ref, ref_tm, REF_NAMES, hyp, hyp_tm, HYP_NAMES)
    assert r["boundaries"] == 4 and r["utterances"] == 1
    assert r["sequence_mismatches"] == 0 and r["unmatched_phones"] == 0
    assert r["within"] == {10: 0.0, 20: 75.0, 40: 100.0}
    assert r["mean_abs_ms"] == pytest.approx(22.5)


def test_missing_unmatched_and_length_mismatch_are_misses(ref_tm, hyp_tm):
    ref = {
        "same": _ali(ref_tm, [(1, [1, 1, 1]), (2, [1, 1, 1]), (1, [1, 1, 1])]),
        "other_phone": _ali(ref_tm, [(2, [1, 1, 1]), (3, [1, 1, 1])]),
        "absent": _ali(ref_tm, [(2, [1, 1, 1])]),
        "shorter": _ali(ref_tm, [(2, [1, 1, 1])]),
    }
    hyp = {
        "same": _ali(hyp_tm, [(1, [1, 1, 1]), (2, [1, 1, 1]), (1, [1, 1, 1])]),
        # b replaced by a: one phone unmatched
        "other_phone": _ali(hyp_tm, [(2, [1, 1, 1]), (3, [1, 1, 1])]),
        "shorter": _ali(hyp_tm, [(2, [1, 1, 2])]),
    }
    r = boundary_accuracy(ref, ref_tm, REF_NAMES, hyp, hyp_tm, HYP_NAMES)
    assert r["missing"] == ["absent"]
    assert r["frame_mismatch"] == ["shorter"]
    assert r["sequence_mismatches"] == 1
    # same: 2 hits; other_phone: a hits (2), b unmatched; absent, shorter
    # count as 2 misses each: 4 hits of 2+4+2+2 = 10 boundaries
    assert r["boundaries"] == 10
    assert r["unmatched_phones"] == 3
    assert r["within"][10] == pytest.approx(40.0)


def test_command_prints_and_writes_json(tmp_path, ref_tm, capsys):
    ali = _ali(ref_tm, [(1, [1, 1, 1]), (2, [2, 1, 1]), (1, [1, 1, 1])])
    for name in ("ref", "hyp"):
        folder = tmp_path / name
        folder.mkdir()
        ref_tm.write(folder / "final.mdl")
        write_int_vectors(str(folder / "ali.1.gz"), [("u", ali)])
    phones = tmp_path / "phones.txt"
    phones.write_text("<eps> 0\nSIL 1\na 2\nb 3\n")
    status = main(
        [
            "compare-alignments",
            str(tmp_path / "ref"),
            str(tmp_path / "hyp"),
            "--ref-phones",
            str(phones),
            "--hyp-phones",
            str(phones),
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "boundaries within 20 ms: 100.00 %" in out
    assert (tmp_path / "r.json").is_file()


def test_command_names_a_missing_phone_table(tmp_path, ref_tm, capsys):
    for name in ("ref", "hyp"):
        (tmp_path / name).mkdir()
        ref_tm.write(tmp_path / name / "final.mdl")
    status = main(
        ["compare-alignments", str(tmp_path / "ref"), str(tmp_path / "hyp")]
    )
    assert status == 1
    err = capsys.readouterr().err
    assert "phones.txt: phone table not found" in err and "--ref-phones" in err


def test_systematic_phone_offsets_are_separated(ref_tm, hyp_tm):
    """'a' always starts 3 frames (30 ms) early in the hypothesis, and its
    other boundaries agree: the offset is listed, and once removed every
    boundary is within 10 ms; misses are still counted against the total."""
    ref, hyp = {}, {}
    for k in range(4):
        # ref: SIL(0-6) a(6-9+k) b(9+k-12+k) SIL
        ref[f"u{k}"] = _ali(
            ref_tm,
            [
                (1, [2, 2, 2]),
                (2, [1, 1, 1 + k]),
                (3, [1, 1, 1]),
                (1, [1, 1, 1]),
            ],
        )
        # hyp: SIL(0-3) a_B(3-9+k) b_S(9+k-12+k) SIL
        hyp[f"u{k}"] = _ali(
            hyp_tm,
            [
                (1, [1, 1, 1]),
                (2, [2, 2, 2 + k]),
                (4, [1, 1, 1]),
                (1, [1, 1, 1]),
            ],
        )
    ref["lost"] = ref["u0"]  # no hypothesis: two misses
    r = boundary_accuracy(
        ref, ref_tm, REF_NAMES, hyp, hyp_tm, HYP_NAMES, min_offset_count=4
    )
    assert r["phone_offsets"] == [
        {"phone": "a", "side": "start", "median_ms": -30.0, "count": 4}
    ]
    # 16 of 20 boundaries agree exactly; the 4 starts of a are 30 ms off
    assert r["within"][20] == pytest.approx(100 * 12 / 20)
    assert r["within"][40] == pytest.approx(100 * 16 / 20)
    assert r["within_without_phone_offsets"][10] == pytest.approx(100 * 16 / 20)
