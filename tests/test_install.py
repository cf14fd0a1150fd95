"""The installed stack loads, and it is the one pyproject.toml pins.

A fresh ``pip install -e ".[test]"`` takes the newest release that each
requirement allows. torchaudio's compiled extension only loads with the torch
it was built against (torchaudio 2.11.1 with torch 2.11.0: ``undefined symbol:
torch_exception_get_what_without_backtrace``), and SpeechBrain imports
torchaudio, so such a pair breaks everything. These tests name both versions
when that happens, and fail when a virtual environment was edited by hand
away from the exact pins.
"""

import importlib.metadata
import math
import os

import pytest
import torch
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYPROJECT = os.path.join(REPO_ROOT, "pyproject.toml")
REINSTALL = (
    'reinstall into a fresh virtual environment: pip install -e ".[test]"'
)


def _installed(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _requirements():
    """Every requirement of pyproject.toml (dependencies and extras)."""
    with open(PYPROJECT, "rb") as f:
        project = tomllib.load(f)["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    reqs = [Requirement(line) for line in lines]
    return [r for r in reqs if r.marker is None or r.marker.evaluate()]


def _exact_pin(req):
    """The version of an ``==X`` requirement (no wildcard), else None."""
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator == "==":
        if not specs[0].version.endswith("*"):
            return specs[0].version
    return None


EXACT = {
    canonicalize_name(r.name): _exact_pin(r)
    for r in _requirements()
    if _exact_pin(r)
}
BOUNDED = [r for r in _requirements() if not _exact_pin(r)]


def _pair():
    return (
        f"torch {_installed('torch')} + torchaudio {_installed('torchaudio')}"
        f" (pyproject.toml pins torch=={EXACT.get('torch')}, "
        f"torchaudio=={EXACT.get('torchaudio')})"
    )


# `import torchaudio` loads its compiled extension (torchaudio/lib/
# _torchaudio*.so and libtorchaudio*.so, through torch.ops.load_library): with
# a torch it was not built against, that raises OSError here, at collection,
# where every module importing SpeechBrain fails too. Name the pair.
def _causes(err):
    """An exception and its causes, the root cause last."""
    chain = []
    while err is not None and len(chain) < 5:
        chain.append(f"{type(err).__name__}: {err}")
        err = err.__cause__ or err.__context__
    return " <- ".join(chain)


try:
    import torchaudio
except Exception as err:
    raise ImportError(
        f"torchaudio's compiled extension does not load: {_pair()}: "
        f"{_causes(err)}; {REINSTALL}"
    ) from err


def test_torchaudio_compiled_extension():
    """forced_align runs in torchaudio's C++ ops (no Python fallback)."""
    from torchaudio._extension import _IS_TORCHAUDIO_EXT_AVAILABLE

    assert _IS_TORCHAUDIO_EXT_AVAILABLE, (
        f"torchaudio's compiled extension was not found: {_pair()}"
    )
    # Emissions over {blank, a, b} for 5 frames that favour "a a - b b".
    best = [1, 1, 0, 2, 2]
    logits = torch.full((1, 5, 3), -5.0)
    for t, c in enumerate(best):
        logits[0, t, c] = 5.0
    log_probs = torch.log_softmax(logits, dim=-1)
    targets = torch.tensor([[1, 2]], dtype=torch.int32)
    try:
        path, scores = torchaudio.functional.forced_align(log_probs, targets)
    except Exception as err:
        pytest.fail(
            f"torchaudio's C++ forced_align fails: {_pair()}: {err}",
            pytrace=False,
        )
    assert path.tolist() == [best]
    assert torch.allclose(scores.exp(), torch.ones(1, 5), atol=1e-3)


def test_speechbrain_and_fbank():
    """SpeechBrain imports, and Kaldi fbank features come out."""
    import speechbrain
    from torchaudio.compliance.kaldi import fbank

    assert speechbrain.__version__ == _installed("speechbrain")
    t = torch.arange(1600) / 16000.0  # 0.1 s at 16 kHz
    wave = 0.5 * torch.sin(2 * math.pi * 440.0 * t)
    feats = fbank(wave.unsqueeze(0), num_mel_bins=23, sample_frequency=16000)
    # 25 ms frames every 10 ms: 1 + (1600 - 400) // 160 = 8.
    assert feats.shape == (8, 23)
    assert torch.isfinite(feats).all()


@pytest.mark.parametrize("name", sorted(EXACT))
def test_exact_pin_installed(name):
    """What is installed equals each exact pin of pyproject.toml."""
    installed = _installed(name)
    assert installed == EXACT[name], (
        f"pyproject.toml pins {name}=={EXACT[name]}, installed: "
        f"{installed}; {REINSTALL}"
    )


@pytest.mark.parametrize("req", BOUNDED, ids=[r.name for r in BOUNDED])
def test_bounded_requirement_satisfied(req):
    """Every other requirement is installed within its bounds."""
    installed = _installed(req.name)
    assert installed is not None and req.specifier.contains(
        installed, prereleases=True
    ), f"pyproject.toml requires {req}, installed: {installed}; {REINSTALL}"


# kaldi-hmm-gmm 1.1.4 embeds OpenFst 1.7 and its arc type. With kaldifst
# >= 1.8 / kaldi-decoder >= 0.3 importing it after kaldifst deadlocks in
# its static initialisers, and its FST-taking functions reject kaldifst
# FSTs; with the pinned kaldifst 1.7.17 / kaldi-decoder 0.2.11 every
# order of those three works and its graphs are kaldifst FSTs. kaldilm
# must still come after kaldifst and kaldi_hmm_gmm (importing either after
# it hangs), which sb_rectifier.decoding.arpa sees to. A fresh interpreter
# per order (an import happens once per process), under a timeout (the
# failure is a hang).
_KHG_GRAPH_SCRIPT = '''
import importlib, sys
mods = {name: importlib.import_module(name) for name in sys.argv[1:]}
kf, kd, khg = mods["kaldifst"], mods["kaldi_decoder"], mods["kaldi_hmm_gmm"]
import kaldilm  # after kaldifst and kaldi_hmm_gmm, as it must be
import numpy as np
topo = khg.HmmTopology()
topo.read("""<Topology>
<TopologyEntry>
<ForPhones> 1 2 </ForPhones>
<State> 0 <PdfClass> 0 <Transition> 0 0.5 <Transition> 1 0.5 </State>
<State> 1 <PdfClass> 1 <Transition> 1 0.5 <Transition> 2 0.5 </State>
<State> 2 <PdfClass> 2 <Transition> 2 0.5 <Transition> 3 0.5 </State>
<State> 3 </State>
</TopologyEntry>
</Topology>""")
tree = khg.monophone_context_dependency(
    topo.phones, topo.get_phone_to_num_pdf_classes()
)
tm = khg.TransitionModel(tree, topo)
# Words 1 = phones "1 2", 2 = "2 1"; the graph of the text "1 2".
lexicon = kf.compile("0 1 1 1\\n1 0 2 0\\n0 2 2 2\\n2 0 1 0\\n0")
compiler = khg.TrainingGraphCompiler(
    trans_model=tm, ctx_dep=tree, lex_fst=lexicon, disambig_syms=[],
    opts=khg.TrainingGraphCompilerOptions(),
)
graph = compiler.compile_graph_from_text([1, 2])
assert isinstance(graph, kf.StdVectorFst), type(graph)
tids = np.arange(1, tm.num_transition_ids + 1)
tid2pdf = np.array([tm.transition_id_to_pdf(int(t)) for t in tids])
tid2phone = np.array([tm.transition_id_to_phone(int(t)) for t in tids])
# pdfs of phone p's HMM states 0, 1, 2 (transition-ids in state order).
pdfs = {p: list(dict.fromkeys(tid2pdf[tid2phone == p])) for p in (1, 2)}
target = [pdf for p in (1, 2, 2, 1) for pdf in pdfs[p] for _ in range(2)]
loglik = np.where(
    tid2pdf[None, :] == np.array(target)[:, None], 0.0, -10.0
).astype(np.float32)
decoder = kd.FasterDecoder(graph, kd.FasterDecoderOptions(beam=16.0))
decoder.decode(kd.DecodableCtc(loglik))
assert decoder.reached_final()
ok, best = decoder.get_best_path()
ok, ali, words, _ = kf.get_linear_symbol_sequence(best)
assert ok and list(words) == [1, 2], words
assert [tm.transition_id_to_pdf(t) for t in ali] == target, ali
print("decoded", list(words))
'''


@pytest.mark.parametrize(
    "order",
    [
        ("kaldifst", "kaldi_decoder", "kaldi_hmm_gmm"),
        ("kaldi_hmm_gmm", "kaldi_decoder", "kaldifst"),
    ],
    ids=["kaldifst-first", "kaldi_hmm_gmm-first"],
)
def test_kaldi_hmm_gmm_graph_decodes_in_any_import_order(order):
    """A kaldi-hmm-gmm training graph decodes with kaldi_decoder."""
    import subprocess
    import sys

    versions = ", ".join(
        f"{n} {_installed(n)}"
        for n in ("kaldifst", "kaldi-decoder", "kaldi-hmm-gmm")
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", _KHG_GRAPH_SCRIPT, *order],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"importing {' then '.join(order)} hangs ({versions}); {REINSTALL}",
            pytrace=False,
        )
    assert done.returncode == 0 and "decoded [1, 2]" in done.stdout, (
        f"{' then '.join(order)} ({versions}): a kaldi-hmm-gmm graph does "
        f"not decode with kaldi_decoder:\n{done.stdout}{done.stderr}"
    )


_ARPA_THEN_KHG_SCRIPT = """
import os, sys, tempfile
from sb_rectifier.decoding.arpa import make_g_from_arpa
path = os.path.join(tempfile.mkdtemp(), "lm.arpa")
with open(path, "w") as f:
    f.write("\\\\data\\\\\\nngram 1=3\\n\\n\\\\1-grams:\\n-1 <s>\\n"
            "-0.5 </s>\\n-0.3 yes\\n\\n\\\\end\\\\\\n")
G, _ = make_g_from_arpa(path, {"<eps>": 0, "yes": 1})
import kaldi_hmm_gmm
print("ok", G.num_states)
"""


def test_kaldi_hmm_gmm_imports_after_an_arpa_lm(repo_root):
    """make_g_from_arpa (kaldilm) leaves kaldi_hmm_gmm importable."""
    import subprocess
    import sys

    try:
        done = subprocess.run(
            [sys.executable, "-c", _ARPA_THEN_KHG_SCRIPT],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=repo_root,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            "importing kaldi_hmm_gmm after make_g_from_arpa (kaldilm) hangs",
            pytrace=False,
        )
    assert done.returncode == 0 and "ok 1" in done.stdout, (
        done.stdout + done.stderr
    )
