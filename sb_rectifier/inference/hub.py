"""Uploading an exported folder to the HuggingFace hub.

One ``upload_folder`` call makes one commit on the hub: every file is
there or none is. Success is reported only with the commit that the hub
returned.

Authors
 * sb_rectifier developers 2026
"""

import os

__all__ = ["HubError", "push_folder"]

REQUIRED_FILES = ("hyperparams.yaml", "config.json", "custom_interface.py")


class HubError(RuntimeError):
    """An upload that could not be made (offline, not logged in, ...)."""


def push_folder(folder, repo_id, private=False, token=None):
    """Uploads an exported folder as one commit of a model repository.

    Arguments
    ---------
    folder : str or os.PathLike
        A folder written by ``sb-rectifier export``.
    repo_id : str
        ``user/name`` on the hub (created if missing).
    private : bool
        Create the repository as private.
    token : str, optional
        A hub token (default: the one ``hf auth login`` saved, or
        ``HF_TOKEN``).

    Returns
    -------
    str
        The URL of the commit.

    Raises
    ------
    HubError
        Offline mode, no token, the hub unreachable or refusing; nothing
        is reported as uploaded unless the commit was made.

    Example
    -------
    >>> push_folder(getfixture("tmp_path"), "me/model")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sb_rectifier.inference.hub.HubError: .../hyperparams.yaml: not found: ...
    """
    folder = os.fspath(folder)
    for name in REQUIRED_FILES:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise HubError(
                f"{path}: not found: push a folder written by "
                "sb-rectifier export"
            )
    from huggingface_hub import HfApi, constants, errors

    if constants.HF_HUB_OFFLINE:
        raise HubError(
            f"cannot push to {repo_id}: offline mode (HF_HUB_OFFLINE=1 is "
            "set); nothing was uploaded"
        )
    api = HfApi(token=token)
    try:
        api.whoami()
    except errors.LocalTokenNotFoundError:
        raise HubError(
            f"cannot push to {repo_id}: not logged in to the hub (run `hf "
            "auth login` or set HF_TOKEN); nothing was uploaded"
        ) from None
    except Exception as err:  # network errors come from httpx, etc.
        raise HubError(
            f"cannot push to {repo_id}: the hub ({constants.ENDPOINT}) did "
            f"not answer ({type(err).__name__}: {err}); nothing was "
            "uploaded"
        ) from None
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        commit = api.upload_folder(
            folder_path=folder,
            repo_id=repo_id,
            commit_message="Upload a hybrid DNN-HMM model (sb-rectifier export)",
        )
    except Exception as err:
        raise HubError(
            f"upload to {repo_id} failed ({type(err).__name__}: {err}); the "
            "hub commits all files at once, so none of this upload is there"
        ) from None
    return str(getattr(commit, "commit_url", commit))
