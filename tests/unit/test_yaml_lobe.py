"""Recipe-style tests: build the lobes from a HyperPyYAML file and train.

Authors
 * sb_rectifier developers 2026
"""

import math

import pytest
import torch
from hyperpyyaml import load_hyperpyyaml
from speechbrain.nnet.losses import nll_loss

from sb_rectifier import ContextSplice, RectifierDNN

MODEL_YAML = """
seed: 1234
__set_seed: !apply:torch.manual_seed [!ref <seed>]
n_feats: 4
left: 1
right: 1
n_pdfs: 5
unit: relu

splice: !new:sb_rectifier.lobes.ContextSplice
    left: !ref <left>
    right: !ref <right>

model: !new:sb_rectifier.RectifierDNN
    input_shape: [null, null, !ref <n_feats> * (<left> + <right> + 1)]
    num_layers: 2
    neurons: 32
    activation: {activation}
    n_pdfs: !ref <n_pdfs>

log_softmax: !new:speechbrain.nnet.activations.Softmax
    apply_log: True

opt_class: !name:torch.optim.Adam
    lr: 0.01
"""


def load(tmp_path, activation="!ref <unit>", overrides=None):
    """Writes the recipe YAML with the given activation line and loads it."""
    path = tmp_path / "hparams.yaml"
    path.write_text(MODEL_YAML.replace("{activation}", activation))
    with open(path, encoding="utf-8") as fin:
        return load_hyperpyyaml(fin, overrides)


@pytest.mark.parametrize(
    "unit, cls",
    [
        ("relu", torch.nn.ReLU),
        ("tanh", torch.nn.Tanh),
        ("leaky_relu", torch.nn.LeakyReLU),
        ("LReL", torch.nn.LeakyReLU),
    ],
)
def test_registry_name_via_override(tmp_path, unit, cls):
    hparams = load(tmp_path, overrides={"unit": unit})
    model = hparams["model"]
    assert isinstance(model, RectifierDNN)
    assert isinstance(hparams["splice"], ContextSplice)
    assert model.input_size == 12
    assert [type(b.act) for b in model.layers] == [cls, cls]
    assert model.layers[0].act is not model.layers[1].act
    x = torch.randn(3, 7, 4)
    lengths = torch.tensor([1.0, 0.5, 0.75])
    out = model(hparams["splice"](x, lengths))
    assert out.shape == (3, 7, 5)


def test_class_via_name_tag_override(tmp_path):
    hparams = load(tmp_path, overrides="unit: !name:torch.nn.ELU")
    assert [type(b.act) for b in hparams["model"].layers] == [
        torch.nn.ELU,
        torch.nn.ELU,
    ]


def test_class_via_name_tag_in_file(tmp_path):
    hparams = load(tmp_path, activation="!name:torch.nn.ELU")
    acts = [b.act for b in hparams["model"].layers]
    assert all(type(a) is torch.nn.ELU for a in acts)
    assert acts[0] is not acts[1]


def test_partial_via_name_tag_with_arguments(tmp_path):
    activation = "!name:torch.nn.LeakyReLU {negative_slope: 0.2}"
    hparams = load(tmp_path, activation=activation)
    for block in hparams["model"].layers:
        assert type(block.act) is torch.nn.LeakyReLU
        assert block.act.negative_slope == 0.2
    assert hparams["model"].layers[0].act is not hparams["model"].layers[1].act


def test_seeded_yaml_is_reproducible(tmp_path):
    a = load(tmp_path)["model"].state_dict()
    b = load(tmp_path)["model"].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = load(tmp_path, overrides={"seed": 7})["model"].state_dict()
    assert not torch.equal(
        a["layers.0.linear.w.weight"], c["layers.0.linear.w.weight"]
    )


def test_unknown_activation_in_yaml_lists_registered(tmp_path):
    with pytest.raises(ValueError) as err:
        load(tmp_path, overrides={"unit": "swish"})
    assert str(err.value) == (
        "Unknown activation 'swish'; registered activations: "
        "leaky_relu, relu, tanh"
    )


@pytest.mark.parametrize("unit", ["relu", "tanh", "leaky_relu"])
def test_tiny_frame_classification_loss_falls(tmp_path, unit):
    hparams = load(tmp_path, overrides={"unit": unit})
    splice, model = hparams["splice"], hparams["model"]
    log_softmax = hparams["log_softmax"]

    # A learnable toy task: each frame's label is the arg-max of a fixed
    # random projection of the frame and its neighbours (the same window
    # the splicer builds), over padded utterances.
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(8, 20, 4, generator=gen)
    lengths = torch.tensor([1.0, 0.9, 0.8, 0.7, 0.6, 1.0, 0.5, 0.95])
    teacher = torch.randn(12, 5, generator=gen)
    spliced = splice(feats, lengths)
    targets = (spliced @ teacher).argmax(-1)

    optimizer = hparams["opt_class"](model.parameters())
    losses = []
    for _ in range(40):
        log_probs = log_softmax(model(spliced))
        loss = nll_loss(log_probs, targets, length=lengths)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.25 * losses[0], losses
    with torch.no_grad():
        pred = model(spliced).argmax(-1)
    mask = torch.arange(20) < torch.round(lengths * 20).unsqueeze(1)
    accuracy = (pred == targets)[mask].float().mean()
    assert accuracy > 0.9, accuracy
