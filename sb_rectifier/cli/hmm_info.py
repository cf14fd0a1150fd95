"""The ``hmm-info`` and ``num-pdfs`` subcommands.

``hmm-info MODEL`` prints exactly what Kaldi's ``hmm-info`` prints;
``num-pdfs MODEL`` prints only the number of pdfs (the DNN output size),
what recipes get with ``hmm-info final.mdl | grep pdfs | awk '{print $NF}'``.

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.kaldi.transition_model import TransitionModel


def register(subparsers):
    """Adds the ``hmm-info`` and ``num-pdfs`` subcommands.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["num-pdfs", "final.mdl"]).model
    'final.mdl'
    """
    parser = subparsers.add_parser(
        "hmm-info",
        help="print phones, pdfs, transition-ids and -states of a model",
        description="Prints the numbers of phones, pdfs, transition-ids and "
        "transition-states of a Kaldi model, like Kaldi's hmm-info.",
    )
    parser.add_argument(
        "model", metavar="MODEL", help="Kaldi model (final.mdl), text or binary"
    )
    parser.set_defaults(func=run_hmm_info)
    parser = subparsers.add_parser(
        "num-pdfs",
        help="print the number of pdfs of a model (DNN output size)",
        description="Prints the number of pdfs of a Kaldi model.",
    )
    parser.add_argument(
        "model", metavar="MODEL", help="Kaldi model (final.mdl), text or binary"
    )
    parser.set_defaults(func=run_num_pdfs)


def hmm_info_text(model):
    """The four lines Kaldi's ``hmm-info`` prints for a model.

    Arguments
    ---------
    model : TransitionModel
        The transition model.

    Returns
    -------
    str
        The text, newline-terminated.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> print(hmm_info_text(tm), end="")
    number of phones 2
    number of pdfs 6
    number of transition-ids 12
    number of transition-states 6
    """
    return (
        f"number of phones {model.num_phones}\n"
        f"number of pdfs {model.num_pdfs}\n"
        f"number of transition-ids {model.num_transition_ids}\n"
        f"number of transition-states {model.num_transition_states}\n"
    )


def run_hmm_info(args):
    """Prints Kaldi's ``hmm-info`` lines for ``args.model``.

    Arguments
    ---------
    args : argparse.Namespace
        With ``model``.

    Returns
    -------
    int
        0.

    Example
    -------
    >>> import argparse
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> path = getfixture("tmpdir") / "final.mdl"
    >>> TransitionModel.monophone(HmmTopology.left_to_right([1])).write(path)
    >>> run_hmm_info(argparse.Namespace(model=str(path)))
    number of phones 1
    number of pdfs 3
    number of transition-ids 6
    number of transition-states 3
    0
    """
    print(hmm_info_text(TransitionModel.read(args.model)), end="")
    return 0


def run_num_pdfs(args):
    """Prints the number of pdfs of ``args.model``.

    Arguments
    ---------
    args : argparse.Namespace
        With ``model``.

    Returns
    -------
    int
        0.

    Example
    -------
    >>> import argparse
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> path = getfixture("tmpdir") / "final.mdl"
    >>> TransitionModel.monophone(HmmTopology.left_to_right([1])).write(path)
    >>> run_num_pdfs(argparse.Namespace(model=str(path)))
    3
    0
    """
    print(TransitionModel.read(args.model).num_pdfs)
    return 0
