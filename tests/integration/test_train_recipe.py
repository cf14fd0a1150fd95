"""train.py end to end on a small Kaldi-format dataset, for every unit."""

import json

import numpy as np
import pytest
from kaldi_fixture import make_kaldi_dataset
from train_runner import run_train


def _run(tmp_path, unit, dataset_root, extra=()):
    return run_train(tmp_path, unit, dataset_root, extra)


@pytest.mark.slow
@pytest.mark.parametrize(
    "unit, binary_model, text_alignments",
    [
        ("tanh", False, False),
        ("relu", True, False),
        ("leaky_relu", False, True),
    ],
)
def test_train_each_unit_beats_chance(
    tmp_path, unit, binary_model, text_alignments
):
    ds = make_kaldi_dataset(
        tmp_path / "kaldi",
        binary_model=binary_model,
        text_alignments=text_alignments,
        seed=3,
    )
    summary, out = _run(tmp_path, unit, tmp_path / "kaldi")

    # Chance = always guessing the most frequent dev pdf.
    dev = np.concatenate(list(ds["pdfs"]["dev"].values()))
    chance = 100.0 * np.bincount(dev).max() / len(dev)
    assert summary["dev_frame_acc"] > chance + 30.0, (summary, chance)
    assert summary["test_frame_acc"] > chance + 30.0
    assert summary["num_pdfs"] == ds["num_pdfs"]

    records = json.loads((out / "metrics.json").read_text())
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert records[-1]["train_loss"] < records[0]["train_loss"]
    assert records[-1]["dev_ce"] < records[0]["dev_ce"]
    # The best checkpoint (lowest dev CE) is the one evaluated.
    assert summary["dev_ce"] == pytest.approx(
        min(r["dev_ce"] for r in records), rel=1e-4
    )

    checks = json.loads((out / "data_checks.json").read_text())
    for split in ("train", "dev", "test"):
        assert checks[split]["kept"] == checks[split]["utterances"]
        assert checks[split]["skipped"] == {}
    counts = (out / "save" / "ali_train_pdf.counts").read_text().split()[1:-1]
    train = np.concatenate(list(ds["pdfs"]["train"].values()))
    assert [int(c) for c in counts] == np.bincount(
        train, minlength=ds["num_pdfs"]
    ).tolist()
    for name in (
        "train_log.txt",
        "hyperparams.yaml",
        "log.txt",
        "env.log",
        "summary.json",
    ):
        assert (out / name).is_file(), name
    saved = (out / "hyperparams.yaml").read_text()
    assert f"activation: {unit}" in saved and "num_layers: 2" in saved


@pytest.mark.slow
def test_bad_utterances_are_counted_and_reported(tmp_path):
    """Missing alignments and length mismatches are skipped, counted, listed."""
    make_kaldi_dataset(tmp_path / "kaldi", seed=1)
    picked = {}

    def edit(alis):
        utts = sorted(alis)
        picked["dropped"], picked["shortened"] = utts[:1], utts[1:2]
        del alis[utts[0]]
        alis[utts[1]] = alis[utts[1]][:-3]

    _rewrite_first_archive(tmp_path / "kaldi" / "exp" / "ali_train", edit)
    dropped, shortened = picked["dropped"], picked["shortened"]

    summary, out = _run(
        tmp_path, "relu", tmp_path / "kaldi", ["--number_of_epochs", "1"]
    )
    checks = json.loads((out / "data_checks.json").read_text())["train"]
    assert checks["skipped"] == {
        "missing alignment": 1,
        "frame/label length mismatch": 1,
    }
    assert checks["skipped_utterances"]["missing alignment"] == dropped
    assert checks["skipped_utterances"]["frame/label length mismatch"][
        0
    ].startswith(shortened[0])
    assert checks["kept"] == 38

    # With a tolerance of 3 frames the shortened utterance is kept, trimmed.
    summary, out = _run(
        tmp_path,
        "relu",
        tmp_path / "kaldi",
        [
            "--number_of_epochs",
            "1",
            "--length_tolerance",
            "3",
            "--output_folder",
            str(tmp_path / "tol"),
        ],
    )
    checks = json.loads((tmp_path / "tol" / "data_checks.json").read_text())[
        "train"
    ]
    assert checks["skipped"] == {"missing alignment": 1}
    assert checks["trimmed_within_tolerance"] == 1


def _rewrite_first_archive(ali_dir, edit):
    """Applies ``edit(dict)`` to the alignments of ali.1.gz, in place."""
    import gzip

    import kaldiio

    path = sorted(ali_dir.glob("ali.*.gz"))[0]
    with gzip.open(path, "rb") as fin:
        alis = {
            k: np.asarray(v, dtype=np.int32) for k, v in kaldiio.load_ark(fin)
        }
    edit(alis)
    with gzip.open(path, "wb") as fout:
        for utt, ali in alis.items():
            kaldiio.save_ark(fout, {utt: ali})
    return sorted(alis)


@pytest.mark.slow
def test_too_many_skips_and_bad_pdf_ids_are_errors(tmp_path):
    import kaldiio

    ds = make_kaldi_dataset(tmp_path / "kaldi", seed=2)
    exp = tmp_path / "kaldi" / "exp"

    # The YAML's n_pdfs disagrees with final.mdl.
    with pytest.raises(
        ValueError,
        match=f"n_pdfs=2 in the YAML, but .*final.mdl has {ds['num_pdfs']} pdfs",
    ):
        _run(tmp_path, "relu", tmp_path / "kaldi", ["--n_pdfs", "2"])

    # A dev pdf archive with an id beyond the model: an error naming the utterance.
    pdf_dir = tmp_path / "dev_pdf"
    pdf_dir.mkdir()
    dev = {u: p.copy() for u, p in ds["pdfs"]["dev"].items()}
    bad_utt = sorted(dev)[3]
    dev[bad_utt][5] = ds["num_pdfs"] + 4
    kaldiio.save_ark(str(pdf_dir / "pdf.1.ark"), dev)
    import gzip
    import shutil

    with (
        open(pdf_dir / "pdf.1.ark", "rb") as fin,
        gzip.open(pdf_dir / "pdf.1.gz", "wb") as fout,
    ):
        shutil.copyfileobj(fin, fout)
    (pdf_dir / "pdf.1.ark").unlink()
    with pytest.raises(
        ValueError,
        match=f"utterance '{bad_utt}': pdf id {ds['num_pdfs'] + 4} is outside",
    ):
        _run(
            tmp_path,
            "relu",
            tmp_path / "kaldi",
            ["--dev_ali_dir", str(pdf_dir)],
        )

    # 3 of 40 training utterances without alignment: more than 5 % skipped.
    _rewrite_first_archive(
        exp / "ali_train", lambda a: [a.pop(k) for k in sorted(a)[:3]]
    )
    with pytest.raises(
        ValueError, match="3 of 40 utterances .* max_skip_fraction=0.05"
    ):
        _run(
            tmp_path,
            "relu",
            tmp_path / "kaldi",
            ["--output_folder", str(tmp_path / "skips")],
        )
    report = json.loads((tmp_path / "skips" / "data_checks.json").read_text())
    assert report["train"]["skipped"] == {"missing alignment": 3}


def test_unknown_override_and_malformed_yaml_are_clear_errors(tmp_path):
    with pytest.raises(KeyError, match="unknown hyperparameter 'num_layer'"):
        _run(tmp_path, "relu", tmp_path, ["--num_layer", "3"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: base.yaml\nactivation: [relu\n")
    from sb_rectifier.hparams import load_hparams

    with pytest.raises(ValueError, match="bad.yaml: malformed YAML"):
        load_hparams(str(bad))


def test_unknown_activation_lists_registered_units(tmp_path):
    ds = make_kaldi_dataset(
        tmp_path / "kaldi",
        seed=4,
        utts_per_split={"train": 8, "dev": 4, "test": 4},
    )
    with pytest.raises(
        ValueError, match="registered activations: .*leaky_relu.*relu.*tanh"
    ):
        _run(
            tmp_path, "relu", tmp_path / "kaldi", ["--activation", "sigmoidal"]
        )
    assert ds["num_pdfs"] > 0
