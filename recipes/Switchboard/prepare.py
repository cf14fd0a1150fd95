#!/usr/bin/env python3
"""The recipe's data folder from a Kaldi ``egs/swbd/s5c`` directory.

``python prepare.py S5C_DIR OUT_DIR`` checks what the hybrid needs from an
s5c run and lays it out as ``train.py --data_folder OUT_DIR`` reads it::

    OUT_DIR/data/train/   wav.scp segments text utt2spk spk2utt   (train_nodup)
    OUT_DIR/data/dev/     the first --dev-utts utterances of train_dev
    OUT_DIR/data/test/    eval2000, with its stm and glm
    OUT_DIR/exp/ali_train -> S5C/exp/tri4_ali_nodup    (links, not copies)
    OUT_DIR/exp/ali_dev   -> S5C/exp/tri4_ali_dev
    OUT_DIR/exp/graph     -> S5C/exp/tri4/graph_sw1_tg
    OUT_DIR/prepare.json  what was found: counts, pdfs, the graph's files

Only text files are copied; the audio stays where ``wav.scp`` says (s5c's
``sph2pipe ... |`` lines: ``train.py`` computes the 40-dim filterbanks
itself, and reads SPHERE in-process when sph2pipe is not installed).

Everything is checked before anything is written, and every problem is
reported at once, each naming its file: missing files, a ``num_jobs`` that
the ``ali.*.gz`` archives do not match, a ``final.mdl`` or ``tree`` that
cannot be read, a tree and a model of different pdfs, dev alignments of
another model, a graph without ``HCLG.fst`` or ``words.txt``. The folder is
written under a temporary name and renamed: a failed run leaves nothing.

Authors
 * sb_rectifier developers 2026
"""

import argparse
import os
import re
import sys

from sb_rectifier.files import (
    atomic_folder,
    iter_text_lines,
    write_json,
    write_text,
)

DATA_FILES = ("wav.scp", "segments", "text", "utt2spk")
OPTIONAL_DATA_FILES = ("reco2file_and_channel", "spk2gender")
TEST_FILES = ("stm", "glm")


class S5cError(ValueError):
    """What is missing or inconsistent in the s5c directory (all of it)."""


def _utterances(path):
    """The first field of each line, in order."""
    return [line.split(None, 1)[0] for _, line in iter_text_lines(path)]


def check_data_dir(folder, what, need, problems):
    """Appends a problem for each missing file of a Kaldi data dir.

    Arguments
    ---------
    folder : str
        The data directory.
    what : str
        Its role, for messages (``train``, ``dev``, ``test``).
    need : sequence of str
        The files it must have.
    problems : list
        Receives the messages.

    Example
    -------
    >>> problems = []
    >>> check_data_dir("nowhere", "dev", ["text"], problems)
    >>> problems
    ['dev: nowhere: not a directory']
    """
    if not os.path.isdir(folder):
        problems.append(f"{what}: {folder}: not a directory")
        return
    for name in need:
        if not os.path.isfile(os.path.join(folder, name)):
            problems.append(f"{what}: {os.path.join(folder, name)}: missing")


def check_ali_dir(folder, what, problems):
    """Checks a Kaldi alignment dir; returns its (model, tree) or None.

    Arguments
    ---------
    folder : str
        ``final.mdl``, ``tree``, ``num_jobs``, ``ali.1.gz`` ...
    what : str
        For messages.
    problems : list
        Receives the messages.

    Returns
    -------
    tuple or None
        ``(TransitionModel, tree)`` when both could be read.

    Example
    -------
    >>> problems = []
    >>> check_ali_dir("nowhere", "train alignments", problems)
    >>> problems
    ['train alignments: nowhere: not a directory']
    """
    from sb_rectifier.gmm.tree import read_tree
    from sb_rectifier.kaldi.transition_model import TransitionModel

    if not os.path.isdir(folder):
        problems.append(f"{what}: {folder}: not a directory")
        return None
    model = tree = None
    mdl = os.path.join(folder, "final.mdl")
    try:
        model = TransitionModel.read(mdl)
    except (OSError, ValueError) as err:
        problems.append(f"{what}: {err}")
    try:
        tree = read_tree(os.path.join(folder, "tree"))
    except (OSError, ValueError) as err:
        problems.append(f"{what}: {err}")
    if (
        model is not None
        and tree is not None
        and tree.num_pdfs != model.num_pdfs
    ):
        problems.append(
            f"{what}: {folder}/tree has {tree.num_pdfs} pdfs, final.mdl "
            f"{model.num_pdfs}: not the same system"
        )
    jobs_file = os.path.join(folder, "num_jobs")
    archives = sorted(
        int(m.group(1))
        for m in (
            re.fullmatch(r"ali\.(\d+)\.gz", n) for n in os.listdir(folder)
        )
        if m
    )
    if not archives:
        problems.append(f"{what}: {folder}: no ali.*.gz archives")
    elif not os.path.isfile(jobs_file):
        problems.append(f"{what}: {jobs_file}: missing")
    else:
        text = open(jobs_file, encoding="utf-8").read().strip()
        if not text.isdigit():
            problems.append(
                f"{what}: {jobs_file}: not a number ({text[:20]!r})"
            )
        elif archives != list(range(1, int(text) + 1)):
            missing = sorted(set(range(1, int(text) + 1)) - set(archives))
            problems.append(
                f"{what}: {jobs_file} says {text} jobs, but "
                + (
                    "ali." + ",".join(map(str, missing)) + ".gz are missing"
                    if missing
                    else f"there are {len(archives)} archives"
                )
            )
    if model is None or tree is None:
        return None
    return model, tree


def check_graph(folder, problems):
    """Checks a Kaldi graph dir; returns whether it has word boundaries.

    Arguments
    ---------
    folder : str
        ``HCLG.fst``, ``words.txt`` and ``phones/word_boundary.int``.
    problems : list
        Receives the messages.

    Returns
    -------
    bool
        True when ``phones/word_boundary.int`` is there (word times, CTM).

    Example
    -------
    >>> problems = []
    >>> check_graph("nowhere", problems)
    False
    >>> problems
    ['graph: nowhere: not a directory']
    """
    if not os.path.isdir(folder):
        problems.append(f"graph: {folder}: not a directory")
        return False
    for name in ("HCLG.fst", "words.txt"):
        if not os.path.isfile(os.path.join(folder, name)):
            problems.append(f"graph: {os.path.join(folder, name)}: missing")
    return os.path.isfile(os.path.join(folder, "phones", "word_boundary.int"))


def _copy_data(src, dst, utts=None):
    """Copies a data dir's text files, keeping only ``utts`` if given."""
    keep = None if utts is None else set(utts)
    os.makedirs(dst)
    names = DATA_FILES + OPTIONAL_DATA_FILES + TEST_FILES
    for name in names:
        path = os.path.join(src, name)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
        if keep is not None and name in ("segments", "text", "utt2spk"):
            lines = [ln for ln in lines if ln.split(None, 1)[:1][0] in keep]
        if keep is not None and name == "wav.scp":
            recs = set()
            with open(os.path.join(src, "segments"), encoding="utf-8") as f:
                for ln in f:
                    fields = ln.split()
                    if fields and fields[0] in keep:
                        recs.add(fields[1])
            lines = [ln for ln in lines if ln.split(None, 1)[:1][0] in recs]
        write_text(os.path.join(dst, name), "".join(lines))
    spk2utt = {}
    for _, line in iter_text_lines(os.path.join(dst, "utt2spk")):
        utt, spk = line.split()[:2]
        spk2utt.setdefault(spk, []).append(utt)
    write_text(
        os.path.join(dst, "spk2utt"),
        "".join(f"{s} {' '.join(u)}\n" for s, u in sorted(spk2utt.items())),
    )
    return len(_utterances(os.path.join(dst, "utt2spk")))


def prepare(
    s5c,
    out,
    train="data/train_nodup",
    dev="data/train_dev",
    test="data/eval2000",
    train_ali="exp/tri4_ali_nodup",
    dev_ali="exp/tri4_ali_dev",
    graph="exp/tri4/graph_sw1_tg",
    dev_utts=4000,
):
    """Checks the s5c directory and writes the recipe's data folder.

    Arguments
    ---------
    s5c : str
        The s5c directory.
    out : str
        The folder to write (must not exist).
    train, dev, test, train_ali, dev_ali, graph : str
        Paths inside ``s5c`` (the defaults are s5c's names).
    dev_utts : int
        Dev is the first this many utterances of ``dev`` (s5c's train_dev
        is the first 4000 utterances of its train).

    Returns
    -------
    dict
        What ``prepare.json`` records.

    Raises
    ------
    S5cError
        Listing every problem found, each naming its file.

    Example
    -------
    >>> try:
    ...     prepare("no_s5c", "out")
    ... except S5cError as err:
    ...     print(err)
    no_s5c: not a directory
    """
    if not os.path.isdir(s5c):
        raise S5cError(f"{s5c}: not a directory")
    if os.path.exists(out):
        raise S5cError(f"{out}: exists; give a new folder")
    given = {
        "train": train,
        "dev": dev,
        "test": test,
        "train_ali": train_ali,
        "dev_ali": dev_ali,
        "graph": graph,
    }
    path = {k: os.path.abspath(os.path.join(s5c, v)) for k, v in given.items()}
    problems = []
    check_data_dir(path["train"], "train", DATA_FILES, problems)
    check_data_dir(path["dev"], "dev", DATA_FILES, problems)
    check_data_dir(path["test"], "test", DATA_FILES + TEST_FILES, problems)
    systems = {
        k: check_ali_dir(
            path[k], f"{k.replace('_ali', '')} alignments", problems
        )
        for k in ("train_ali", "dev_ali")
    }
    has_boundaries = check_graph(path["graph"], problems)
    if all(systems.values()):
        (tm, _), (dev_tm, _) = systems["train_ali"], systems["dev_ali"]
        if dev_tm != tm:
            problems.append(
                f"dev alignments: {path['dev_ali']}/final.mdl is another "
                f"model than {path['train_ali']}/final.mdl (align train_dev "
                "with the same tri4)"
            )
    if problems:
        raise S5cError(
            f"{s5c}: {len(problems)} problem(s):\n  " + "\n  ".join(problems)
        )
    dev_ids = _utterances(os.path.join(path["dev"], "utt2spk"))[:dev_utts]
    counts = {}
    with atomic_folder(out) as tmp:
        counts["train"] = _copy_data(
            path["train"], os.path.join(tmp, "data", "train")
        )
        counts["dev"] = _copy_data(
            path["dev"], os.path.join(tmp, "data", "dev"), dev_ids
        )
        counts["test"] = _copy_data(
            path["test"], os.path.join(tmp, "data", "test")
        )
        os.makedirs(os.path.join(tmp, "exp"))
        for link, key in (
            ("ali_train", "train_ali"),
            ("ali_dev", "dev_ali"),
            ("graph", "graph"),
        ):
            os.symlink(path[key], os.path.join(tmp, "exp", link))
        info = {
            "s5c": os.path.abspath(s5c),
            "sources": path,
            "utterances": counts,
            "num_pdfs": systems["train_ali"][0].num_pdfs,
            "word_boundary": has_boundaries,
        }
        write_json(os.path.join(tmp, "prepare.json"), info)
    return info


def main(argv=None):
    """Command line; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("s5c", metavar="S5C_DIR")
    parser.add_argument("out", metavar="OUT_DIR")
    parser.add_argument("--train", default="data/train_nodup")
    parser.add_argument("--dev", default="data/train_dev")
    parser.add_argument("--test", default="data/eval2000")
    parser.add_argument("--train-ali", default="exp/tri4_ali_nodup")
    parser.add_argument("--dev-ali", default="exp/tri4_ali_dev")
    parser.add_argument("--graph", default="exp/tri4/graph_sw1_tg")
    parser.add_argument("--dev-utts", type=int, default=4000)
    args = parser.parse_args(argv)
    try:
        info = prepare(
            args.s5c,
            args.out,
            args.train,
            args.dev,
            args.test,
            args.train_ali,
            args.dev_ali,
            args.graph,
            args.dev_utts,
        )
    except (OSError, ValueError) as err:
        print(f"prepare.py: error: {err}", file=sys.stderr)
        return 1
    for split, n in info["utterances"].items():
        print(f"{split}: {n} utterances")
    print(f"{info['num_pdfs']} pdfs; word boundaries: {info['word_boundary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
