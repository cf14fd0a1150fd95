"""WER counts, Kaldi compute-wer output, modes, subsets, details format.

Every expected number below is counted by hand from the transcripts.
"""

import io
import math

import pytest

from sb_rectifier.scoring import (
    WerResult,
    align_utterance,
    kaldi_percent,
    read_text,
    score,
    score_subsets,
    subset_table,
)


def _lines(wer, ser, scored, missing=0):
    return f"%WER {wer}\n%SER {ser}\nScored {scored} sentences, {missing} not present in hyp.\n"


# --- reading Kaldi text files ---------------------------------------------


def test_read_text_ids_alone_and_blank_lines(tmp_path):
    path = tmp_path / "text"
    path.write_text("u1 HELLO  world\n\nu2\nu3\tA\tB \n")
    assert read_text(str(path)) == {
        "u1": ["HELLO", "world"],
        "u2": [],
        "u3": ["A", "B"],
    }
    assert list(read_text(str(path))) == ["u1", "u2", "u3"]


def test_read_text_duplicate_id_names_file_and_utt(tmp_path):
    path = tmp_path / "hyp.txt"
    path.write_text("u1 a\nu2 b\nu1 c\n")
    with pytest.raises(ValueError, match=r"hyp\.txt:3: duplicate .*'u1'"):
        read_text(str(path))


def test_read_text_from_stream():
    assert read_text(io.StringIO("x a b\n")) == {"x": ["a", "b"]}


def test_read_text_not_utf8_names_file_line_and_byte(tmp_path):
    path = tmp_path / "ref.txt"
    path.write_bytes("u1 ça va\nu2 ok\nu3 d\xe9j\xe0\n".encode("latin-1"))
    with pytest.raises(
        ValueError,
        match=r"ref\.txt: line 1: not valid UTF-8 \(byte 0xe7 at column 4\)",
    ):
        read_text(str(path))
    path.write_bytes(b"u1 ok\nu2 d\xc3\xa9j\xe0\n")
    with pytest.raises(
        ValueError, match=r"line 2: not valid UTF-8 \(byte 0xe0 at column 8\)"
    ):
        read_text(path)


def test_read_text_stream_bytes_not_utf8():
    stream = io.TextIOWrapper(io.BytesIO(b"u1 a\nu2 \xff\n"), encoding="utf-8")
    with pytest.raises(
        ValueError,
        match=r"^<stream>: line 2: not valid UTF-8 \(byte 0xff at column 4\)",
    ):
        read_text(stream)
    good = io.TextIOWrapper(io.BytesIO("u1 é\n".encode()), encoding="utf-8")
    assert read_text(good) == {"u1": ["é"]}


def test_read_text_missing_file(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"nope\.txt: text file not found"
    ):
        read_text(tmp_path / "nope.txt")


# --- counts and the three Kaldi lines -------------------------------------


def test_empty_reference_is_inf_like_kaldi():
    # 0 reference words, 2 inserted words: 100.0 * 2 / 0 = inf in C++.
    r = score({"u1": []}, {"u1": ["a", "b"]})
    assert (r.words, r.ins, r.dels, r.subs, r.errors) == (0, 2, 0, 0, 2)
    assert math.isinf(r.wer)
    assert r.kaldi_lines() == _lines(
        "inf [ 2 / 0, 2 ins, 0 del, 0 sub ]", "100.00 [ 1 / 1 ]", 1
    )


def test_both_empty_is_minus_nan_like_kaldi():
    r = score({"u1": []}, {"u1": []})
    assert (r.words, r.errors, r.sentences, r.sentence_errors) == (0, 0, 1, 0)
    assert math.isnan(r.wer) and r.ser == 0.0
    assert r.kaldi_lines() == _lines(
        "-nan [ 0 / 0, 0 ins, 0 del, 0 sub ]", "0.00 [ 0 / 1 ]", 1
    )


def test_no_sentence_at_all():
    r = score({}, {"u1": ["a"]})
    assert r.kaldi_lines() == _lines(
        "-nan [ 0 / 0, 0 ins, 0 del, 0 sub ]", "-nan [ 0 / 0 ]", 0
    )
    assert r.to_dict()["wer"] is None and r.to_dict()["ser"] is None


def test_empty_hypothesis_deletes_everything():
    r = score({"u1": ["a", "b", "c"]}, {"u1": []})
    assert (r.words, r.ins, r.dels, r.subs) == (3, 0, 3, 0)
    assert r.kaldi_lines() == _lines(
        "100.00 [ 3 / 3, 0 ins, 3 del, 0 sub ]", "100.00 [ 1 / 1 ]", 1
    )


def test_insertion_deletion_substitution_mix():
    refs = {
        # a=a, b deleted, c=c, d=d, e e inserted: 2 ins 1 del.
        "u1": "a b c d".split(),
        # hello=hello, big->word, world->xy: 2 sub.
        "u2": "hello big world".split(),
        # correct.
        "u3": "one two".split(),
    }
    hyps = {
        "u1": "a c d e e".split(),
        "u2": "hello word xy".split(),
        "u3": "one two".split(),
        "extra": ["ignored", "like", "kaldi"],
    }
    r = score(refs, hyps)
    assert (r.words, r.ins, r.dels, r.subs, r.errors) == (9, 2, 1, 2, 5)
    assert (r.sentences, r.sentence_errors, r.missing) == (3, 2, 0)
    # 5 / 9 = 55.555...%, 2 / 3 = 66.666...%
    assert r.kaldi_lines() == _lines(
        "55.56 [ 5 / 9, 2 ins, 1 del, 2 sub ]", "66.67 [ 2 / 3 ]", 3
    )
    assert [u.utt for u in r.utterances] == ["u1", "u2", "u3"]
    assert r.utterances[0].alignment == [
        ("a", "a"),
        ("b", None),
        ("c", "c"),
        ("d", "d"),
        (None, "e"),
        (None, "e"),
    ]


def test_kaldi_rounding_and_brief_example():
    r = WerResult(
        words=1000, ins=10, dels=20, subs=93, sentences=100, sentence_errors=45
    )
    assert r.kaldi_lines() == _lines(
        "12.30 [ 123 / 1000, 10 ins, 20 del, 93 sub ]",
        "45.00 [ 45 / 100 ]",
        100,
    )
    assert [kaldi_percent(*x) for x in [(1, 8), (2, 3), (1, 6), (0, 7)]] == [
        "12.50",
        "66.67",
        "16.67",
        "0.00",
    ]


# --- --mode with utterances missing from the hypothesis -------------------

MODE_REFS = {"u1": ["a", "b"], "u2": ["c", "d", "e"], "u3": ["f"]}
MODE_HYPS = {"u1": ["a", "b"], "u3": ["g"]}


def test_strict_mode_fails_on_missing_hypothesis():
    with pytest.raises(
        ValueError, match="No hypothesis for key u2 and strict mode specifier"
    ):
        score(MODE_REFS, MODE_HYPS)


def test_present_mode_skips_missing():
    # u1 correct, u3 f->g: 1 sub over 3 words; u2 not scored.
    r = score(MODE_REFS, MODE_HYPS, mode="present")
    assert (r.words, r.errors, r.sentences, r.missing) == (3, 1, 2, 1)
    assert r.kaldi_lines() == _lines(
        "33.33 [ 1 / 3, 0 ins, 0 del, 1 sub ] [PARTIAL]",
        "50.00 [ 1 / 2 ]",
        2,
        1,
    )


def test_all_mode_scores_missing_as_empty():
    # u2 scored against nothing: 3 deletions; plus the substitution of u3.
    r = score(MODE_REFS, MODE_HYPS, mode="all")
    assert (r.words, r.ins, r.dels, r.subs, r.sentences) == (6, 0, 3, 1, 3)
    assert r.kaldi_lines() == _lines(
        "66.67 [ 4 / 6, 0 ins, 3 del, 1 sub ] [PARTIAL]",
        "66.67 [ 2 / 3 ]",
        3,
        1,
    )
    assert [u.missing for u in r.utterances] == [False, True, False]


def test_empty_hypothesis_line_is_not_missing():
    r = score({"u1": ["a"]}, {"u1": []}, mode="strict")
    assert (r.dels, r.missing) == (1, 0)


def test_invalid_mode():
    with pytest.raises(ValueError, match="--mode option invalid"):
        score(MODE_REFS, MODE_HYPS, mode="sloppy")


def test_case_sensitive_unless_asked():
    refs, hyps = {"u1": ["HELLO", "World"]}, {"u1": ["hello", "world"]}
    assert score(refs, hyps).subs == 2
    r = score(refs, hyps, ignore_case=True)
    assert (r.errors, r.words) == (0, 2)


# --- subsets ---------------------------------------------------------------

SUB_REFS = {
    "sw_1": "a b c".split(),
    "sw_2": "d e".split(),
    "en_1": "f g h i".split(),
    "en_2": ["j"],
}
SUB_HYPS = {
    "sw_1": "a b c".split(),  # correct
    "sw_2": "d x".split(),  # 1 sub
    "en_1": "f g i".split(),  # 1 del
    "en_2": "j k".split(),  # 1 ins
}


def test_subsets_by_prefix():
    res = score_subsets(SUB_REFS, SUB_HYPS, {"SWBD": "sw_", "CallHome": "en_"})
    assert list(res) == ["all", "SWBD", "CallHome"]
    counts = {
        name: (r.sentences, r.words, r.ins, r.dels, r.subs, r.sentence_errors)
        for name, r in res.items()
    }
    assert counts == {
        "all": (4, 10, 1, 1, 1, 3),
        "SWBD": (2, 5, 0, 0, 1, 1),
        "CallHome": (2, 5, 1, 1, 0, 2),
    }
    assert subset_table(res) == (
        "| set | sentences | words | WER % | ins | del | sub | SER % |\n"
        "|---|---|---|---|---|---|---|---|\n"
        "| all | 4 | 10 | 30.00 | 1 | 1 | 1 | 75.00 |\n"
        "| SWBD | 2 | 5 | 20.00 | 0 | 0 | 1 | 50.00 |\n"
        "| CallHome | 2 | 5 | 40.00 | 1 | 1 | 0 | 100.00 |\n"
    )


def test_subsets_count_their_own_missing_utterances():
    hyps = {k: v for k, v in SUB_HYPS.items() if k != "en_2"}
    res = score_subsets(
        SUB_REFS, hyps, {"SWBD": "sw_", "CallHome": "en_"}, mode="all"
    )
    assert (res["all"].missing, res["SWBD"].missing) == (1, 0)
    assert (res["CallHome"].missing, res["CallHome"].dels) == (1, 2)
    # sw_2: 1 sub; en_1: 1 del; en_2 (missing, "j") scored as empty: 1 del.
    assert (res["all"].subs, res["all"].dels, res["all"].errors) == (1, 2, 3)


def test_subset_without_utterances_and_reserved_name():
    res = score_subsets(SUB_REFS, SUB_HYPS, {"none": "xx_"})
    assert res["none"].sentences == 0
    assert subset_table(res).splitlines()[-1] == (
        "| none | 0 | 0 | n/a | 0 | 0 | 0 | n/a |"
    )
    with pytest.raises(ValueError, match="reserved"):
        score_subsets(SUB_REFS, SUB_HYPS, {"all": "sw_"})


# --- per-utterance details (wer_per_utt_details.pl) -------------------------


def test_details_format_matches_wer_per_utt_details():
    # Checked against Kaldi's utils/scoring/wer_per_utt_details.pl run on
    # the same alignment: columns centred, odd padding on the left.
    r = score(
        {"u1": "hello big world".split(), "u2": "a b c d".split(), "u3": []},
        {"u1": "hello word xy".split(), "u2": "a c d eee".split(), "u3": []},
    )
    assert r.details() == (
        "u1 ref  hello   big  world\n"
        "u1 hyp  hello  word    xy \n"
        "u1 op     C      S     S  \n"
        "u1 #csid 1 2 0 0\n"
        "u2 ref  a   b   c  d  ***\n"
        "u2 hyp  a  ***  c  d  eee\n"
        "u2 op   C   D   C  C   I \n"
        "u2 #csid 3 0 1 1\n"
        "u3 ref  \n"
        "u3 hyp  \n"
        "u3 op   \n"
        "u3 #csid 0 0 0 0\n"
    )


def test_details_of_one_utterance_with_custom_gap():
    u = align_utterance("x", ["a"], [])
    assert u.details(eps="<eps>") == (
        "x ref    a  \nx hyp  <eps>\nx op     D  \nx #csid 0 0 0 1\n"
    )
