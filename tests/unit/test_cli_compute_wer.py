"""The compute-wer subcommand: exact output, inputs, details, JSON, GLM."""

import io
import json

import pytest

from sb_rectifier.cli.main import main

REF = "sw_1 A B C\nsw_2 D E\nen_1 F G H I\nen_2 J\n"
HYP = (
    "sw_1 A B C\n"  # correct
    "sw_2 D X\n"  # 1 sub
    "en_1 F G I\n"  # 1 del
    "en_2 J K\n"  # 1 ins
)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "ref").write_text(REF)
    (tmp_path / "hyp").write_text(HYP)
    return tmp_path


def test_kaldi_output_exactly(files, capsys):
    assert main(["compute-wer", str(files / "ref"), str(files / "hyp")]) == 0
    assert capsys.readouterr().out == (
        "%WER 30.00 [ 3 / 10, 1 ins, 1 del, 1 sub ]\n"
        "%SER 75.00 [ 3 / 4 ]\n"
        "Scored 4 sentences, 0 not present in hyp.\n"
    )


def test_subsets_table_exactly(files, capsys):
    argv = [
        "compute-wer",
        "--subset",
        "SWBD=sw_",
        "--subset",
        "CallHome=en_",
        f"ark:{files / 'ref'}",
        f"ark,t:{files / 'hyp'}",
    ]
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        "%WER 30.00 [ 3 / 10, 1 ins, 1 del, 1 sub ]\n"
        "%SER 75.00 [ 3 / 4 ]\n"
        "Scored 4 sentences, 0 not present in hyp.\n"
        "\n"
        "| set | sentences | words | WER % | ins | del | sub | SER % |\n"
        "|---|---|---|---|---|---|---|---|\n"
        "| all | 4 | 10 | 30.00 | 1 | 1 | 1 | 75.00 |\n"
        "| SWBD | 2 | 5 | 20.00 | 0 | 0 | 1 | 50.00 |\n"
        "| CallHome | 2 | 5 | 40.00 | 1 | 1 | 0 | 100.00 |\n"
    )


def test_modes_with_a_missing_hypothesis(files, capsys):
    (files / "hyp").write_text("sw_1 A B C\nsw_2 D X\nen_1 F G I\n")
    ref, hyp = str(files / "ref"), str(files / "hyp")
    assert main(["compute-wer", ref, hyp]) == 1
    assert (
        f"error: {hyp}: No hypothesis for key en_2 and strict mode specifier."
        in capsys.readouterr().err
    )
    assert main(["compute-wer", "--mode=present", ref, hyp]) == 0
    assert capsys.readouterr().out == (
        "%WER 22.22 [ 2 / 9, 0 ins, 1 del, 1 sub ] [PARTIAL]\n"
        "%SER 66.67 [ 2 / 3 ]\n"
        "Scored 3 sentences, 1 not present in hyp.\n"
    )
    assert main(["compute-wer", "--mode", "all", "--text", ref, hyp]) == 0
    assert capsys.readouterr().out == (
        "%WER 30.00 [ 3 / 10, 0 ins, 2 del, 1 sub ] [PARTIAL]\n"
        "%SER 75.00 [ 3 / 4 ]\n"
        "Scored 4 sentences, 1 not present in hyp.\n"
    )


def test_stdin_for_one_input(files, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("sw_1 A B\n"))
    (files / "one").write_text("sw_1 A B C\n")
    assert main(["compute-wer", str(files / "one"), "ark:-"]) == 0
    assert capsys.readouterr().out.startswith(
        "%WER 33.33 [ 1 / 3, 0 ins, 1 del, 0 sub ]\n"
    )
    assert main(["compute-wer", "-", "-"]) == 1
    assert "only one of REF and HYP" in capsys.readouterr().err


def test_duplicate_ids_and_bad_subset(files, capsys):
    (files / "hyp").write_text("sw_1 A\nsw_1 B\n")
    assert main(["compute-wer", str(files / "ref"), str(files / "hyp")]) == 1
    assert "duplicate utterance id 'sw_1'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["compute-wer", "--subset", "SWBD", "a", "b"])
    assert info.value.code == 2


def test_details_file_and_stdout(files, capsys):
    details = files / "per_utt"
    ref, hyp = str(files / "ref"), str(files / "hyp")
    assert main(["compute-wer", "--details", str(details), ref, hyp]) == 0
    expected = (
        "sw_1 ref  A  B  C\n"
        "sw_1 hyp  A  B  C\n"
        "sw_1 op   C  C  C\n"
        "sw_1 #csid 3 0 0 0\n"
        "sw_2 ref  D  E\n"
        "sw_2 hyp  D  X\n"
        "sw_2 op   C  S\n"
        "sw_2 #csid 1 1 0 0\n"
        "en_1 ref  F  G   H   I\n"
        "en_1 hyp  F  G  ***  I\n"
        "en_1 op   C  C   D   C\n"
        "en_1 #csid 3 0 0 1\n"
        "en_2 ref  J  ***\n"
        "en_2 hyp  J   K \n"
        "en_2 op   C   I \n"
        "en_2 #csid 1 0 1 0\n"
    )
    assert details.read_text() == expected
    summary = capsys.readouterr().out
    assert main(["compute-wer", "--details", "-", ref, hyp]) == 0
    assert capsys.readouterr().out == expected + summary


def test_json_report(files, capsys):
    out = files / "wer.json"
    argv = ["compute-wer", "--subset", "SWBD=sw_", "--json", str(out)]
    assert main([*argv, str(files / "ref"), str(files / "hyp")]) == 0
    report = json.loads(out.read_text())
    assert report["mode"] == "strict" and report["subsets"] == {"SWBD": "sw_"}
    assert report["results"]["all"] == {
        "words": 10,
        "ins": 1,
        "del": 1,
        "sub": 1,
        "errors": 3,
        "sentences": 4,
        "sentence_errors": 3,
        "missing": 0,
        "wer": 30.0,
        "ser": 75.0,
    }
    assert report["results"]["SWBD"]["wer"] == 20.0
    capsys.readouterr()


def test_glm_option(files, capsys):
    (files / "glm").write_text(
        ';; test\n* name "t.glm"\nUH => %HESITATION / [ ] __ [ ]\n'
        "OK => { OK / OKAY } / [ ] __ [ ]\n[I'M] => [I AM] / [ ] __ [ ]\n"
    )
    (files / "ref").write_text(
        "sw_1 UH I'M OK\nsw_2 (%HESITATION) YES [LAUGHTER]\n"
    )
    (files / "hyp").write_text("sw_1 i am okay\nsw_2 uh yes um [noise]\n")
    argv = ["compute-wer", str(files / "ref"), str(files / "hyp")]
    assert main([*argv, "--glm", str(files / "glm")]) == 0
    # I AM OK / YES: 4 words, all correct.
    assert capsys.readouterr().out == (
        "%WER 0.00 [ 0 / 4, 0 ins, 0 del, 0 sub ]\n"
        "%SER 0.00 [ 0 / 2 ]\n"
        "Scored 2 sentences, 0 not present in hyp.\n"
    )
