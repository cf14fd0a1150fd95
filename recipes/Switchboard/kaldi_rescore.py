#!/usr/bin/env python3
"""Kaldi's 4-gram rescoring (``sw1_fsh_fg``) of this recipe's eval2000 output.

``python kaldi_rescore.py OUT_DIR EXP_DIR`` prints the Kaldi commands that
turn the hybrid's eval2000 log-likelihoods (``EXP_DIR/decode/test/
loglikes.scp``, pdf log-likelihoods as ``nnet-forward`` writes them) into
lattices with s5c's graph, as nnet1's ``steps/nnet/decode.sh`` does
(``latgen-faster-mapped``: beam 13, lattice beam 8, acoustic scale 0.1,
max-active 7000), and rescore them from ``sw1_tg`` to the 4-gram
``sw1_fsh_fg`` with ``steps/lmrescore_const_arpa.sh``, as s5c's
``RESULTS`` do. It also writes them to ``EXP_DIR/kaldi/rescore_fg.sh``.
Nothing here runs Kaldi: run the script from a machine with Kaldi and the
s5c directory (``bash EXP_DIR/kaldi/rescore_fg.sh``).

``OUT_DIR`` is the folder ``prepare.py`` wrote: its ``prepare.json`` names
the s5c directory, eval2000, the graph and the model. Every input is
checked first, and each problem names its file.

Authors
 * sb_rectifier developers 2026
"""

import argparse
import os
import shlex
import sys

from sb_rectifier.files import read_json, write_text

# steps/nnet/decode.sh's defaults (nnet1, the s5c DNN of the README table).
LATGEN = {
    "min-active": 200,
    "max-active": 7000,
    "beam": 13.0,
    "lattice-beam": 8.0,
    "acoustic-scale": 0.1,
}


class RescoreError(ValueError):
    """An input of the rescoring is missing (the message names it)."""


def rescore_commands(
    prepared,
    exp,
    old_lang="data/lang_sw1_tg",
    new_lang="data/lang_sw1_fsh_fg",
    split="test",
):
    """The shell commands of Kaldi's 4-gram rescoring of one decoded split.

    Arguments
    ---------
    prepared : str
        The folder ``prepare.py`` wrote (``prepare.json``).
    exp : str
        The ``train.py`` output folder (``decode/<split>/loglikes.scp``).
    old_lang, new_lang : str
        s5c's lang folders of the graph's LM and of the 4-gram
        (``G.carpa``), relative to the s5c directory.
    split : str
        The decoded split (``test``: eval2000).

    Returns
    -------
    tuple of (list of str, list of str)
        The commands, and notes on what s5c still has to build.

    Raises
    ------
    RescoreError
        Naming every missing input at once.

    Example
    -------
    >>> try:
    ...     rescore_commands("no_such_folder", "exp")
    ... except RescoreError as err:
    ...     print(err)
    no_such_folder/prepare.json: missing (the folder prepare.py wrote)
    """
    info_path = os.path.join(prepared, "prepare.json")
    if not os.path.isfile(info_path):
        raise RescoreError(
            f"{info_path}: missing (the folder prepare.py wrote)"
        )
    info = read_json(info_path)
    s5c = info["s5c"]
    sources = info["sources"]
    graph = sources["graph"]
    model = os.path.join(sources["train_ali"], "final.mdl")
    data = sources["test"]
    exp = os.path.abspath(exp)
    scp = os.path.join(exp, "decode", split, "loglikes.scp")
    problems = [
        f"{path}: missing ({what})"
        for path, what in (
            (scp, f"run train.py first: the {split} log-likelihoods"),
            (model, "the transition model"),
            (os.path.join(graph, "HCLG.fst"), "the graph"),
            (os.path.join(graph, "words.txt"), "the graph's words"),
            (os.path.join(s5c, old_lang, "G.fst"), "the graph's LM"),
            (os.path.join(data, "stm"), "eval2000's reference"),
        )
        if not os.path.exists(path)
    ]
    if problems:
        raise RescoreError(
            f"{len(problems)} problem(s):\n  " + "\n  ".join(problems)
        )
    notes = []
    carpa = os.path.join(s5c, new_lang, "G.carpa")
    if not os.path.exists(carpa):
        notes.append(
            f"{carpa} does not exist yet: s5c's run.sh builds it with "
            f"utils/build_const_arpa_lm.sh data/local/lm/sw1_fsh.o4g.kn.gz "
            f"{old_lang} {new_lang} (needs the Fisher transcripts)"
        )
    q = shlex.quote
    kaldi = os.path.join(exp, "kaldi")
    name = os.path.basename(os.path.normpath(data))
    tg = os.path.join(kaldi, f"decode_{name}_sw1_tg")
    fg = os.path.join(kaldi, f"decode_{name}_sw1_fsh_fg")
    options = " ".join(f"--{k}={v}" for k, v in LATGEN.items())
    lattices = f"ark:|gzip -c > {tg}/lat.1.gz"
    commands = [
        f"cd {q(s5c)}",
        ". ./path.sh",
        f"mkdir -p {q(tg)}",
        "# local/score.sh reads the model from the decode folder's parent",
        f"ln -sfn {q(model)} {q(os.path.join(kaldi, 'final.mdl'))}",
        f"latgen-faster-mapped {options} --allow-partial=true "
        f"--word-symbol-table={q(os.path.join(graph, 'words.txt'))} "
        f"{q(os.path.join(kaldi, 'final.mdl'))} "
        f"{q(os.path.join(graph, 'HCLG.fst'))} scp:{q(scp)} {q(lattices)}",
        f"echo 1 > {q(os.path.join(tg, 'num_jobs'))}",
        f"local/score.sh --cmd run.pl {q(data)} {q(graph)} {q(tg)}",
        f"steps/lmrescore_const_arpa.sh --cmd run.pl {q(old_lang)} "
        f"{q(new_lang)} {q(data)} {q(tg)} {q(fg)}",
        f"grep Sum {q(tg)}/score_*/*.ctm.swbd.filt.sys | utils/best_wer.sh",
        f"grep Sum {q(fg)}/score_*/*.ctm.swbd.filt.sys | utils/best_wer.sh",
    ]
    return commands, notes


def main(argv=None):
    """Command line; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("prepared", metavar="OUT_DIR")
    parser.add_argument("exp", metavar="EXP_DIR")
    parser.add_argument("--old-lang", default="data/lang_sw1_tg")
    parser.add_argument("--new-lang", default="data/lang_sw1_fsh_fg")
    args = parser.parse_args(argv)
    try:
        commands, notes = rescore_commands(
            args.prepared, args.exp, args.old_lang, args.new_lang
        )
    except (OSError, ValueError) as err:
        print(f"kaldi_rescore.py: error: {err}", file=sys.stderr)
        return 1
    script = os.path.join(os.path.abspath(args.exp), "kaldi", "rescore_fg.sh")
    os.makedirs(os.path.dirname(script), exist_ok=True)
    write_text(
        script,
        "#!/usr/bin/env bash\n"
        "# Kaldi's 4-gram rescoring of this run (recipes/Switchboard/"
        "kaldi_rescore.py).\n"
        "# Kaldi's scoring reports the best LM weight on eval2000 itself;\n"
        "# this recipe's own table chose it on train_dev.\n"
        "set -eo pipefail  # not -u: Kaldi's path.sh reads unset variables\n"
        + "\n".join(commands)
        + "\n",
    )
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print("\n".join(commands))
    print(f"# written to {script}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
