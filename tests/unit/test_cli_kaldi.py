"""The ali-to-pdf, hmm-info and num-pdfs subcommands."""

import os
import subprocess
import sys

import pytest
from kaldi_fixture import make_kaldi_dataset

from sb_rectifier.cli.main import main
from sb_rectifier.kaldi.archives import read_int_vectors, write_int_vectors

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_kaldi_dataset(
        tmp_path_factory.mktemp("kaldi"),
        utts_per_split={"train": 10, "dev": 4},
        binary_model=True,
        seed=7,
    )


def _expected_text(pdfs, utts):
    return "".join(
        utt + " " + "".join(f"{p} " for p in pdfs[utt]) + "\n" for utt in utts
    )


def test_hmm_info_and_num_pdfs(dataset, capsys):
    # 6 phones x 3 states, 2 transitions per state.
    assert main(["hmm-info", dataset["model"]]) == 0
    assert capsys.readouterr().out == (
        "number of phones 6\n"
        "number of pdfs 18\n"
        "number of transition-ids 36\n"
        "number of transition-states 18\n"
    )
    assert main(["num-pdfs", dataset["model"]]) == 0
    assert capsys.readouterr().out == "18\n"


def test_ali_to_pdf_to_stdout(dataset, capsys):
    ali = os.path.join(dataset["ali"]["dev"], "ali.1.gz")
    assert main(["ali-to-pdf", dataset["model"], ali, "ark,t:-"]) == 0
    captured = capsys.readouterr()
    utts = [utt for utt, _ in read_int_vectors(ali)]
    pdfs = {u: p.tolist() for u, p in dataset["pdfs"]["dev"].items()}
    assert captured.out == _expected_text(pdfs, utts)
    assert f"Converted {len(utts)} alignments to pdfs." in captured.err


def test_ali_to_pdf_to_files(dataset, tmp_path, capsys):
    ali = os.path.join(dataset["ali"]["train"], "ali.2.gz")
    out = tmp_path / "pdf.ark"
    scp = tmp_path / "pdf.scp"
    assert (
        main(["ali-to-pdf", dataset["model"], ali, f"ark,scp:{out},{scp}"]) == 0
    )
    got = {u: p.tolist() for u, p in read_int_vectors(f"scp:{scp}")}
    assert got and all(
        got[u] == dataset["pdfs"]["train"][u].tolist() for u in got
    )
    assert "Converted" in capsys.readouterr().err


def test_ali_to_pdf_errors(dataset, tmp_path, capsys):
    bad = tmp_path / "ali.3.gz"
    write_int_vectors(str(bad), [("spk1-utt3", [1, 2, 412])])
    out = tmp_path / "pdf.txt"
    assert main(["ali-to-pdf", dataset["model"], str(bad), f"ark,t:{out}"]) == 1
    err = capsys.readouterr().err
    assert "ali.3.gz" in err and "utterance 'spk1-utt3'" in err
    assert "transition-id 412" in err and "out of range 1..36" in err
    assert not out.exists()
    missing = tmp_path / "missing.mdl"
    assert main(["ali-to-pdf", str(missing), str(bad), "ark,t:-"]) == 1
    assert "missing.mdl" in capsys.readouterr().err
    assert main(["hmm-info", str(missing)]) == 1
    assert "missing.mdl" in capsys.readouterr().err


def test_module_entry_point_subprocess(dataset):
    """python -m sb_rectifier.cli.main, as an installed script would run."""
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    ali = os.path.join(dataset["ali"]["dev"], "ali.2.gz")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "sb_rectifier.cli.main",
            "ali-to-pdf",
            dataset["model"],
            f"ark:{ali}",
            "ark,t:-",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    utts = [utt for utt, _ in read_int_vectors(ali)]
    pdfs = {u: p.tolist() for u, p in dataset["pdfs"]["dev"].items()}
    assert run.stdout == _expected_text(pdfs, utts)
    assert f"Converted {len(utts)} alignments to pdfs." in run.stderr
