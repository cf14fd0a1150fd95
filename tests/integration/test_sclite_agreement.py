"""``sb-rectifier compute-wer --glm`` against NIST's own Hub5'00 scoring.

NIST's side is what ``hubscr.pl -l english -h hub5`` runs, on ``trn``
files instead of STM/CTM (no times needed)::

    csrfilt.sh -i trn -t ref -dh GLM < ref.trn > ref.filt
    csrfilt.sh -i trn -t hyp -dh GLM < hyp.trn > hyp.filt
    sclite -D -F -r ref.filt trn -h hyp.filt trn -i swb -o rsum pra stdout

with, before it, the hypothesis filter of Kaldi's
``egs/swbd/s5c/local/score_sclite.sh`` (hesitation words, partial words,
non-speech tokens), which our scorer also applies. ``-dh`` makes csrfilt
split hyphenated words ("delete hyphens"); it does nothing to hesitations.

What the fixture pins:

* agreement, exact, in errors and reference words, overall and per subset
  (SWBD = ``sw_``, CallHome = ``en_``): contractions, alternations (also
  multi-word ones), upper/lower case, non-speech tokens, hypothesis
  hesitations, optionally deletable words that the hypothesis says or
  replaces, insertions, deletions, substitutions;
* the known disagreement: a reference word in parentheses that the
  hypothesis omits (a hesitation in parentheses is always omitted, as our
  scorer drops hesitations): sclite counts it as a correct reference word,
  we leave it out of the denominator;
* bare hesitations in a reference (``UH``, ``UM``, ``%HESITATION`` without
  parentheses): the GLM maps them to ``%HESITATION`` and nothing makes them
  deletable, so sclite requires them (a deletion when the hypothesis has
  none); our scorer drops them;
* hyphenated words: csrfilt ``-dh`` splits them into two words, we keep
  one.

The module is skipped when ``sclite`` and ``csrfilt.sh`` are on neither the
PATH nor the directory printed by Debian's ``sctk path``
(``apt-get install sctk``).
"""

import json
import os
import re
import shutil
import subprocess

import pytest

from sb_rectifier.cli.main import main


def _sctk_path():
    """The PATH under which sclite, csrfilt.sh and rfilter1 run, or None."""
    path = os.environ.get("PATH", "")
    if shutil.which("sctk") and not shutil.which("sclite"):
        # Debian's package keeps the tools in a private directory.
        out = subprocess.run(
            ["sctk", "path"], capture_output=True, text=True, check=False
        ).stdout.split()
        if out:
            path = out[-1] + os.pathsep + path
    tools = ("sclite", "csrfilt.sh", "rfilter1")
    if all(shutil.which(tool, path=path) for tool in tools):
        return path
    return None


SCTK_PATH = _sctk_path()
if SCTK_PATH is None:
    pytest.skip(
        "NIST SCTK (sclite, csrfilt.sh, rfilter1) not found on PATH "
        "(install it, e.g. 'apt-get install sctk')",
        allow_module_level=True,
    )

GLM = """\
;;  File: agreement.glm  (the layout of en20000405_hub5.glm)
* name "agreement.glm"
* desc "a few Hub5-style rules"
* format = 'NIST1'
* max_nrules = '1000'
* copy_no_hit = 'T'
* case_sensitive = 'F'

;; Hesitation sound mappings
UH      =>  %HESITATION     / [ ] __ [ ] ;; hesitation token
UM      =>  %HESITATION     / [ ] __ [ ] ;; hesitation token
%UH     =>  %HESITATION     / [ ] __ [ ] ;; hesitation token

;; non-speech
[[LAUGHTER]] => @ / [ ] __ [ ]
[[NOISE]]    => @ / [ ] __ [ ]

;; contractions and alternate spellings
[I'M]     => [I AM]                  / [ ] __ [ ]
[DON'T]   => [DO NOT]                / [ ] __ [ ]
[I'D]     => [{I HAD / I WOULD}]     / [ ] __ [ ]
OK        => { OK / OKAY }           / [ ] __ [ ]
ALRIGHT   => { ALRIGHT / ALL RIGHT } / [ ] __ [ ]
"""

# (utt, reference, hypothesis): Kaldi text, upper-case references as in
# the Hub5 STM, lower-case hypotheses as a decoder writes them.
AGREEING = [
    ("sw_01", "I'M NOT SURE ABOUT THAT", "i am not sure about that"),
    ("sw_02", "I DON'T KNOW", "i don't know"),
    ("sw_03", "I DO NOT THINK SO", "i don't think so"),
    ("sw_04", "ALRIGHT THEN", "all right then"),
    ("sw_05", "ALRIGHT THEN", "alright then"),
    ("sw_06", "I'D LIKE THAT", "i would like that"),
    ("sw_07", "I'D LIKE THAT", "i'd like it"),
    ("sw_08", "(YOU) KNOW IT WAS OK", "you know uh it was okay"),
    ("en_01", "YEAH I THINK (SO)", "yeah um i think no"),
    ("en_02", "[LAUGHTER] WE WENT THERE LAST YEAR", "we went [noise] there uh"),
    ("en_03", "OKAY SO WHAT DID YOU DO", "ok what did you do then"),
    ("en_04", "ALL RIGHT I'M DONE", "alright i'm done"),
    ("en_05", "ALL RIGHT I'M DONE", "all right i am not done"),
    ("en_06", "THE KIDS LIKE IT", "the kid likes it th-"),
]

# Expected (errors, reference words), worked out by hand and the same for
# both tools.
AGREED = {
    "all": (9, 62),
    "SWBD": (1, 33),
    "CallHome": (8, 29),
}

SUBSETS = {"SWBD": "sw_", "CallHome": "en_"}

# Kaldi's score_sclite.sh removes these from the hypothesis (CTM) before
# hubscr; so does our scorer (sb_rectifier.scoring.glm).
KALDI_HYP_HESITATIONS = set(
    "UH UM EH MM HM AH HUH HA ER OOF HEE ACH EEE EW".split()
)


def _kaldi_hyp_filter(words):
    return [
        w
        for w in words
        if w.upper() not in KALDI_HYP_HESITATIONS
        and not w.endswith("-")
        and not re.fullmatch(r"\[.*\]|<.*>", w)
    ]


def _write(tmp_path, utts):
    """Kaldi text and trn files of the references and hypotheses."""
    (tmp_path / "agreement.glm").write_text(GLM, encoding="utf-8")
    for side, col in (("ref", 1), ("hyp", 2)):
        (tmp_path / f"{side}.txt").write_text(
            "".join(f"{u[0]} {u[col]}\n" for u in utts), encoding="utf-8"
        )
    (tmp_path / "ref.trn").write_text(
        "".join(f"{ref} ({utt})\n" for utt, ref, _ in utts), encoding="utf-8"
    )
    (tmp_path / "hyp.trn").write_text(
        "".join(
            " ".join(_kaldi_hyp_filter(hyp.split())) + f" ({utt})\n"
            for utt, _, hyp in utts
        ),
        encoding="utf-8",
    )


def run_sclite(tmp_path, utts):
    """NIST's scoring of ``utts``: per-utterance and per-speaker counts.

    Returns
    -------
    tuple of dict
        Utterance id -> (errors, reference words), from ``-o pra``; and
        speaker (the id up to ``_``: ``sw``, ``en``) or ``"all"`` ->
        (errors, reference words), from ``-o rsum``.
    """
    _write(tmp_path, utts)
    env = dict(os.environ, PATH=SCTK_PATH)
    for side in ("ref", "hyp"):
        with (
            open(tmp_path / f"{side}.trn", "rb") as fin,
            open(tmp_path / f"{side}.filt", "wb") as fout,
        ):
            subprocess.run(
                ["csrfilt.sh", "-i", "trn", "-t", side, "-dh", "agreement.glm"],
                stdin=fin,
                stdout=fout,
                cwd=tmp_path,
                env=env,
                check=True,
            )
    out = subprocess.run(
        ["sclite", "-D", "-F", "-r", "ref.filt", "trn", "-h", "hyp.filt"]
        + ["trn", "-i", "swb", "-o", "rsum", "pra", "stdout"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    per_utt = {}
    for utt, c, s, d, i in re.findall(
        r"^id: \((\S+)\)\nScores: \(#C #S #D #I\) (\d+) (\d+) (\d+) (\d+)",
        out,
        re.MULTILINE,
    ):
        c, s, d, i = map(int, (c, s, d, i))
        per_utt[utt] = (s + d + i, c + s + d)
    per_spk = {}
    # | SPKR | # Snt # Wrd | Corr Sub Del Ins Err S.Err |, in counts.
    for spk, wrd, err in re.findall(
        r"^\s*\|\s*(\w+)\s*\|\s*\d+\s+(\d+)\s*\|"
        r"\s*\d+\s+\d+\s+\d+\s+\d+\s+(\d+)\s+\d+\s*\|",
        out,
        re.MULTILINE,
    ):
        per_spk["all" if spk == "Sum" else spk] = (int(err), int(wrd))
    assert set(per_utt) == {u[0] for u in utts}, out
    return per_utt, per_spk


def run_ours(tmp_path, utts):
    """Our ``compute-wer --glm --subset ...``: per utterance and per set."""
    _write(tmp_path, utts)
    argv = ["compute-wer", "--glm", str(tmp_path / "agreement.glm")]
    for name, prefix in SUBSETS.items():
        argv += ["--subset", f"{name}={prefix}"]
    argv += ["--json", str(tmp_path / "wer.json"), "--details"]
    argv += [str(tmp_path / "details.txt")]
    argv += [str(tmp_path / "ref.txt"), str(tmp_path / "hyp.txt")]
    assert main(argv) == 0
    results = json.loads((tmp_path / "wer.json").read_text())["results"]
    per_set = {k: (r["errors"], r["words"]) for k, r in results.items()}
    per_utt = {}
    for line in (tmp_path / "details.txt").read_text().splitlines():
        fields = line.split()
        if fields[1] == "#csid":
            c, s, i, d = map(int, fields[2:])
            per_utt[fields[0]] = (s + i + d, c + s + d)
    return per_utt, per_set


@pytest.fixture
def dirs(tmp_path):
    (tmp_path / "nist").mkdir()
    (tmp_path / "ours").mkdir()
    return tmp_path


def test_agreement_overall_per_subset_and_per_utterance(dirs, capsys):
    sclite_utt, sclite_spk = run_sclite(dirs / "nist", AGREEING)
    ours_utt, ours_set = run_ours(dirs / "ours", AGREEING)
    with capsys.disabled():
        print(f"\nsclite: {sclite_spk}\nours:   {ours_set}")
    assert ours_utt == sclite_utt
    assert sclite_spk == {
        "all": AGREED["all"],
        "sw": AGREED["SWBD"],
        "en": AGREED["CallHome"],
    }
    assert ours_set == AGREED


def _both(dirs, utts):
    return run_sclite(dirs / "nist", utts)[0], run_ours(dirs / "ours", utts)[0]


def test_known_disagreement_omitted_optional_word(dirs):
    # sclite -D aligns an omitted "(WORD)" as correct and counts it in the
    # reference words; we drop it from the denominator. Errors agree.
    utts = [
        ("sw_1", "YES (UH) RIGHT", "no uh right"),
        ("sw_2", "YES (%HESITATION) RIGHT", "no right"),
        ("en_1", "I THINK (SO)", "i think"),
    ]
    sclite, ours = _both(dirs, utts)
    assert sclite == {"sw_1": (1, 3), "sw_2": (1, 3), "en_1": (0, 3)}
    assert ours == {"sw_1": (1, 2), "sw_2": (1, 2), "en_1": (0, 2)}


def test_bare_reference_hesitations(dirs):
    # The GLM maps UH/UM to %HESITATION; nothing (neither the GLM nor
    # csrfilt -dh) makes it optionally deletable, so sclite requires a bare
    # reference hesitation, and Kaldi's filter has removed every hesitation
    # from the hypothesis: always a deletion, even against "um". We drop
    # hesitations on both sides: never an error, never a reference word.
    utts = [
        ("sw_1", "UH I THINK SO", "i think so"),
        ("sw_2", "UM I THINK SO", "um i think so"),
        ("en_1", "I'M %HESITATION FINE", "i'm fine"),
    ]
    sclite, ours = _both(dirs, utts)
    assert sclite == {"sw_1": (1, 4), "sw_2": (1, 4), "en_1": (1, 4)}
    assert ours == {"sw_1": (0, 3), "sw_2": (0, 3), "en_1": (0, 3)}


def test_hyphenated_words(dirs):
    # csrfilt -dh splits T-SHIRT into T SHIRT (two words); we keep one.
    utts = [
        ("sw_1", "A T-SHIRT", "a t-shirt"),
        ("en_1", "A T-SHIRT", "a shirt"),
    ]
    sclite, ours = _both(dirs, utts)
    assert sclite == {"sw_1": (0, 3), "en_1": (1, 3)}
    assert ours == {"sw_1": (0, 2), "en_1": (1, 2)}
