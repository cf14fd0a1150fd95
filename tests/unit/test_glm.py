"""Hub5 GLM reading and applying, hesitation and non-speech filtering.

Expected counts are worked out by hand in the comments.
"""

import pytest

from sb_rectifier.scoring import Glm, normalize, resolve_alternatives, score

HUB5_LIKE = """\
;;  File: test.glm  (the layout of en20000405_hub5.glm)
* name "test.glm"
* desc "rules for the tests"
* format = 'NIST1'
* case_sensitive = 'F'

;; Hesitation sound mappings
UH      =>  %HESITATION     / [ ] __ [ ] ;; hesitation token
UM      =>  %HESITATION     / [ ] __ [ ]
%UH     =>  %HESITATION     / [ ] __ [ ]

;; alternate spellings and mappings
OK          => { OK / OKAY }          / [ ] __ [ ]
[I'M]       => [I AM]                 / [ ] __ [ ]
'CAUSE      => BECAUSE ;; per AHD
ALRIGHT     => { ALRIGHT / ALL RIGHT } / [ ] __ [ ]
[I'D]       => [{I HAD / I WOULD}]    / [ ] __ [ ]
FALKNER     => FAULKNER               / [WILLIAM ] __
DOWN SYNDROME => DOWN'S SYNDROME
[[SILENCE]] => @                      / [ ] __ [ ]
A           => B
B           => C
"""


@pytest.fixture(scope="module")
def glm():
    return Glm.parse(HUB5_LIKE, source="test.glm")


def _counts(ref, hyp, glm):
    """(words, ins, del, sub) of one utterance given as strings."""
    r = score({"u": ref.split()}, {"u": hyp.split()}, glm=glm)
    return r.words, r.ins, r.dels, r.subs


# --- reading ---------------------------------------------------------------


def test_parse_rules_header_and_comments(glm):
    assert len(glm) == 13
    assert glm.header == {
        "name": "test.glm",
        "desc": "rules for the tests",
        "format": "NIST1",
        "case_sensitive": "F",
    }
    by_lhs = {rule.lhs: rule for rule in glm.rules}
    assert by_lhs[("I'M",)].rhs == ((("I",),), (("AM",),))
    assert by_lhs[("OK",)].rhs == ((("OK",), ("OKAY",)),)
    assert by_lhs[("ALRIGHT",)].rhs == ((("ALRIGHT",), ("ALL", "RIGHT")),)
    assert by_lhs[("'CAUSE",)].rhs == ((("BECAUSE",),),)
    assert by_lhs[("FALKNER",)].left == ("WILLIAM",)
    assert by_lhs[("FALKNER",)].right == ()
    assert by_lhs[("DOWN", "SYNDROME")].rhs[0] == (("DOWN'S",),)
    assert by_lhs[("[SILENCE]",)].rhs == ()
    assert by_lhs[("UH",)].line == 8


def test_read_file_and_malformed_rule(tmp_path):
    path = tmp_path / "en.glm"
    path.write_text(HUB5_LIKE, encoding="utf-8")
    assert len(Glm.read(str(path))) == 13
    path.write_text(";; ok\nUH => %HESITATION\nthis is not a rule\n")
    with pytest.raises(ValueError, match=r"en\.glm:3: not a GLM rule"):
        Glm.read(str(path))
    with pytest.raises(ValueError, match="'{' without '}'"):
        Glm.parse("X => { A / B")
    # A white-space rewrite has no word to map: skipped.
    assert len(Glm.parse("[  ] => [ ] ;; reduce 2 spaces to 1\nX => Y")) == 1


def test_input_dependent_rules_apply_to_the_hypothesis_only():
    glm = Glm.parse(
        "UH => %HESITATION\n"
        ';; INPUT_DEPENDENT_APPLICATION = "ctm"\n'
        "[I'M] => [I AM] / [ ] __ [ ]\n"
    )
    assert glm.rules[0].sides == {"ref", "hyp"}
    assert glm.rules[1].sides == {"hyp"}
    assert glm.rewrite(["I'M"], "ref") == [(("I'M",),)]
    assert glm.rewrite(["I'M"], "hyp") == [(("I",),), (("AM",),)]
    # ref "I AM" vs hyp "i'm" -> "I AM": correct.
    assert _counts("I AM", "i'm", glm) == (2, 0, 0, 0)
    # ref "I'M" is not expanded: I'M->I substituted, AM inserted.
    assert _counts("I'M", "i'm", glm) == (1, 1, 0, 1)


# --- applying ---------------------------------------------------------------


def test_mapping_i_m_to_i_am(glm):
    # Both sides become I AM HERE: 3 words, no error.
    assert _counts("I'M HERE", "i am here", glm) == (3, 0, 0, 0)
    assert _counts("I AM HERE", "i'm here", glm) == (3, 0, 0, 0)
    # Without the GLM (case ignored): I->I'M sub, AM deleted.
    r = score(
        {"u": "I AM HERE".split()}, {"u": ["i'm", "here"]}, ignore_case=True
    )
    assert (r.words, r.ins, r.dels, r.subs) == (3, 0, 1, 1)


def test_alternatives_ok_okay(glm):
    # A hypothesis word matching either alternative is correct.
    assert _counts("OK THANKS", "okay thanks", glm) == (2, 0, 0, 0)
    assert _counts("OK THANKS", "ok thanks", glm) == (2, 0, 0, 0)
    # Neither alternative: one substitution.
    assert _counts("OK THANKS", "okey thanks", glm) == (2, 0, 0, 1)
    # Without the GLM, okay != OK.
    assert score({"u": ["OK"]}, {"u": ["okay"]}, ignore_case=True).subs == 1


def test_multi_word_alternatives(glm):
    # I'D = {I HAD / I WOULD}: "i would go" matches 3 reference words.
    assert _counts("I'D GO", "i would go", glm) == (3, 0, 0, 0)
    # "i go": either alternative, one deletion out of 3 words.
    assert _counts("I'D GO", "i go", glm) == (3, 0, 1, 0)
    # ALRIGHT = {ALRIGHT / ALL RIGHT}, on the hypothesis side too: the
    # reference "ALL RIGHT" matches the hypothesis "alright".
    assert _counts("ALL RIGHT", "alright", glm) == (2, 0, 0, 0)
    # A wrong word against ALRIGHT: the one-word alternative (1 sub) wins
    # over ALL RIGHT (1 sub + 1 del).
    assert _counts("ALRIGHT", "fine", glm) == (1, 0, 0, 1)


def test_hesitations_filtered_from_both_sides(glm):
    # Reference: UH and (%HESITATION) dropped -> I KNOW RIGHT (3 words).
    # Hypothesis: um, uh dropped -> i know right.
    ref, hyp = "UH I KNOW (%HESITATION) RIGHT", "um i know uh right"
    assert _counts(ref, hyp, glm) == (3, 0, 0, 0)
    # Without the GLM: UH->UM and (%HESITATION)->UH are substitutions.
    r = score({"u": ref.split()}, {"u": hyp.split()}, ignore_case=True)
    assert (r.words, r.subs, r.errors) == (5, 2, 2)


def test_kaldi_hypothesis_filters_without_rules():
    # Kaldi drops hm, [noise], <unk>, [laughter] and partial words from the
    # hypothesis; the reference's [LAUGHTER] is non-speech too, but its HM
    # has no GLM rule here and stays (deleted).
    hyp = "[noise] hm i <unk> kn- know [laughter] [vocalized-noise]"
    assert _counts("[LAUGHTER] HM I KNOW", hyp, Glm()) == (3, 0, 1, 0)


def test_optional_reference_words(glm):
    # Optional word absent: not an error and not counted as a word.
    assert _counts("(YEAH) RIGHT", "right", glm) == (1, 0, 0, 0)
    # Optional word present: correct and counted.
    assert _counts("(YEAH) RIGHT", "yeah right", glm) == (2, 0, 0, 0)
    # A fragment in the reference is optional; in the hypothesis, dropped.
    assert _counts("(TH-) THE END", "th- the end", glm) == (2, 0, 0, 0)


def test_case_insensitive_rules_and_words():
    glm = Glm.parse("i'm => i am\nok => { ok / okay }\n")
    assert glm.rules[0].lhs == ("I'M",)
    # Mixed-case hypothesis against upper-case reference.
    assert _counts("I'M OK", "I Am OKAY", glm) == (3, 0, 0, 0)


def test_context_one_pass_and_deletion(glm):
    words = [
        "WILLIAM",
        "FALKNER",
        "FALKNER",
        "A",
        "[SILENCE]",
        "DOWN",
        "SYNDROME",
    ]
    assert glm.rewrite(words, "ref") == [
        (("WILLIAM",),),
        (("FAULKNER",),),  # left context WILLIAM
        (("FALKNER",),),  # no context: unchanged
        (("B",),),  # A => B, and B is not rewritten again
        (("DOWN'S",),),
        (("SYNDROME",),),
    ]


def test_normalize_slots(glm):
    assert normalize(["uh", "ok", "i'm"], glm, "hyp") == [
        (("OK",), ("OKAY",)),
        (("I",),),
        (("AM",),),
    ]
    assert normalize(["(UH)", "(OK)"], glm, "ref") == [
        (("OK",), ("OKAY",), ()),
    ]
    with pytest.raises(ValueError, match="side"):
        normalize(["a"], glm, "both")


def test_resolution_beyond_exhaustive_search():
    # 10 two-way slots = 1024 combinations > 256: coordinate descent.
    ref = [((f"A{i}",), (f"B{i}",)) for i in range(10)]
    hyp = [((f"B{i}",),) for i in range(10)]
    ref_words, hyp_words = resolve_alternatives(ref, hyp)
    assert ref_words == hyp_words == [f"B{i}" for i in range(10)]
    # The same with some hypothesis words wrong: only those are errors.
    hyp[3] = (("X",),)
    ref_words, hyp_words = resolve_alternatives(ref, hyp)
    assert hyp_words[3] == "X"
    assert ref_words[:3] + ref_words[4:] == hyp_words[:3] + hyp_words[4:]
