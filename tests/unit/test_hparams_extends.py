"""YAML files that extend a base which extends another (sb_rectifier.hparams),
and the paper's GPU YAMLs built that way."""

import os

import pytest

from sb_rectifier.hparams import load_hparams, resolve_hparams_file

HPARAMS = os.path.join(os.path.dirname(__file__), "..", "..", "hparams")


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_a_chain_of_three_files(tmp_path):
    write(
        tmp_path,
        "base.yaml",
        "unit: !PLACEHOLDER\nsize: 2\nwidth: 8\nopts:\n  a: 1\n  b: 2\n",
    )
    write(
        tmp_path,
        "gpu/base.yaml",
        "extends: ../base.yaml\nsize: 4\nopts:\n  a: 5\n",
    )
    leaf = write(tmp_path, "gpu/relu.yaml", "extends: base.yaml\nunit: relu\n")
    hparams, root, _ = load_hparams(leaf, {"width": 16})
    assert os.path.basename(root) == "base.yaml"
    assert os.path.dirname(root).endswith("gpu/..")
    assert (hparams["unit"], hparams["size"], hparams["width"]) == (
        "relu",
        4,
        16,
    )
    assert dict(hparams["opts"]) == {"a": 5, "b": 2}


def test_an_unknown_key_in_the_middle_names_that_file(tmp_path):
    write(tmp_path, "base.yaml", "unit: !PLACEHOLDER\nsize: 2\n")
    middle = write(tmp_path, "mid.yaml", "extends: base.yaml\nsise: 4\n")
    leaf = write(tmp_path, "leaf.yaml", "extends: mid.yaml\nunit: relu\n")
    with pytest.raises(
        KeyError, match=f"{middle}: unknown hyperparameter 'sise'"
    ):
        resolve_hparams_file(leaf)


def test_a_loop_and_a_missing_base_are_errors(tmp_path):
    a = write(tmp_path, "a.yaml", "extends: b.yaml\nx: 1\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nx: 2\n")
    with pytest.raises(ValueError, match="a loop"):
        resolve_hparams_file(a)
    c = write(tmp_path, "c.yaml", "extends: nowhere.yaml\nx: 1\n")
    with pytest.raises(
        FileNotFoundError, match="nowhere.yaml' .extends:. not found"
    ):
        resolve_hparams_file(c)


@pytest.mark.parametrize("unit", ["tanh", "relu", "leaky_relu"])
def test_the_paper_yamls(unit):
    paper, _, _ = load_hparams(os.path.join(HPARAMS, "paper", f"{unit}.yaml"))
    default, _, _ = load_hparams(os.path.join(HPARAMS, f"{unit}.yaml"))
    assert paper["activation"] == default["activation"] == unit
    assert paper["activation_kwargs"] == default["activation_kwargs"]
    assert (paper["neurons"], paper["num_layers"]) == (2048, 4)
    assert (paper["precision"], paper["store_device"]) == ("bf16", "cuda")
    assert paper["dropout"] == 0.0 and paper["batch_size"] == 256
    assert paper["output_folder"] == (
        f"results/{unit}_4x2048/embedded_10.0h_seed0/1234"
    )
    assert (default["neurons"], default["precision"]) == (512, "fp32")
    assert default["store_device"] == "cpu"
    if unit == "leaky_relu":
        assert paper["activation_kwargs"] == {"negative_slope": 0.01}
    layers2, _, _ = load_hparams(
        os.path.join(HPARAMS, "paper", f"{unit}.yaml"), {"num_layers": 2}
    )
    assert layers2["num_layers"] == 2
