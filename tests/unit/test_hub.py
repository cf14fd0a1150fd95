"""Uploading to the HuggingFace hub: every failure is a clear error that
says nothing was uploaded (run in fresh processes, since huggingface_hub
reads its environment once, at import)."""

import os
import subprocess
import sys

import pytest

PUSH = (
    "from sb_rectifier.inference.hub import HubError, push_folder\n"
    "try:\n"
    "    push_folder('.', 'someone/model')\n"
    "except HubError as err:\n"
    "    print(err)\n"
    "else:\n"
    "    print('UPLOADED')\n"
)


@pytest.fixture
def folder(tmp_path):
    for name in ("hyperparams.yaml", "config.json", "custom_interface.py"):
        (tmp_path / name).write_text("")
    return tmp_path


def _push(folder, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    environ.update(HF_HOME=str(folder / "hf_home"), **env)
    result = subprocess.run(
        [sys.executable, "-c", PUSH],
        cwd=folder,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_offline_mode_is_refused(folder):
    out = _push(folder, HF_HUB_OFFLINE="1", HF_TOKEN="hf_x")
    assert out == (
        "cannot push to someone/model: offline mode (HF_HUB_OFFLINE=1 is "
        "set); nothing was uploaded"
    )


def test_no_token_is_refused(folder):
    out = _push(folder)
    assert out.startswith("cannot push to someone/model: not logged in")
    assert out.endswith("nothing was uploaded")


def test_an_unreachable_hub_is_refused(folder):
    # A closed local port: refused at once, no network needed.
    out = _push(folder, HF_TOKEN="hf_x", HF_ENDPOINT="http://127.0.0.1:9")
    assert out.startswith(
        "cannot push to someone/model: the hub (http://127.0.0.1:9) did not "
        "answer"
    )
    assert out.endswith("nothing was uploaded")


def test_a_folder_that_export_did_not_write_is_refused(tmp_path):
    from sb_rectifier.inference.hub import HubError, push_folder

    with pytest.raises(HubError, match="hyperparams.yaml: not found"):
        push_folder(tmp_path, "someone/model")
