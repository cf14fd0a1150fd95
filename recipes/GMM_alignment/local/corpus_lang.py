#!/usr/bin/env python3
"""A Kaldi dict dir and a test lang dir from the embedded corpus.

``python corpus_lang.py dict CORPUS DICT_DIR`` writes Kaldi's dict layout
(``lexicon.txt``, ``silence_phones.txt``, ``nonsilence_phones.txt``,
``optional_silence.txt``) from the corpus's ``data/lang``: its lexicon
plus ``<UNK> SPN`` for the out-of-vocabulary word, ``SIL`` (optional
silence) and ``SPN`` as silence phones, every other phone a nonsilence
phone of its own.

``python corpus_lang.py grammar CORPUS LANG_DIR LANG_TEST_DIR`` copies
``LANG_DIR`` (made by ``sb-rectifier prepare-lang``) to ``LANG_TEST_DIR``
and adds the corpus's grammar ``G.fst`` with its word labels renumbered to
``LANG_DIR/words.txt`` (Kaldi's ``data/lang_test``): the GMM and the hybrid
decode with the grammar the corpus was generated from.

Authors
 * sb_rectifier developers 2026
"""

import os
import shutil
import sys

import kaldifst as kf

from sb_rectifier.decoding.fst_io import read_graph, write_graph
from sb_rectifier.decoding.lang import read_symbols
from sb_rectifier.files import atomic_folder, iter_text_lines, write_table


def make_dict(corpus, dict_dir):
    """Writes the dict dir of the corpus's lexicon.

    Arguments
    ---------
    corpus : str
        The corpus folder (``data/lang`` inside).
    dict_dir : str
        The dict dir to write (skipped when it has a lexicon).

    Returns
    -------
    int
        Number of lexicon entries.
    """
    lang = os.path.join(corpus, "data", "lang")
    rows = [
        tuple(line.split())
        for _, line in iter_text_lines(os.path.join(lang, "lexicon.txt"))
        if line.strip()
    ]
    if os.path.isfile(os.path.join(dict_dir, "lexicon.txt")):
        return len(rows) + 1
    phones = [
        p
        for p in read_symbols(os.path.join(lang, "phones.txt"))
        if p not in ("<eps>", "SIL") and not p.startswith("#")
    ]
    with atomic_folder(dict_dir) as tmp:
        write_table(os.path.join(tmp, "lexicon.txt"), rows + [("<UNK>", "SPN")])
        write_table(
            os.path.join(tmp, "silence_phones.txt"), [("SIL",), ("SPN",)]
        )
        write_table(os.path.join(tmp, "optional_silence.txt"), [("SIL",)])
        write_table(
            os.path.join(tmp, "nonsilence_phones.txt"), [(p,) for p in phones]
        )
    return len(rows) + 1


def add_grammar(corpus, lang_dir, lang_test_dir):
    """Copies ``lang_dir`` with the corpus's ``G.fst``, relabelled.

    Arguments
    ---------
    corpus : str
        The corpus folder.
    lang_dir : str
        A lang dir made from :func:`make_dict`'s dict dir.
    lang_test_dir : str
        The copy to write (skipped when it has ``G.fst``).

    Returns
    -------
    tuple of int
        States and arcs of G.
    """
    if os.path.isfile(os.path.join(lang_test_dir, "G.fst")):
        g = read_graph(os.path.join(lang_test_dir, "G.fst"), what="G")
        return g.num_states, sum(g.num_arcs(s) for s in range(g.num_states))
    corpus_lang = os.path.join(corpus, "data", "lang")
    old = {
        i: w
        for w, i in read_symbols(os.path.join(corpus_lang, "words.txt")).items()
    }
    new = read_symbols(os.path.join(lang_dir, "words.txt"))
    g = read_graph(os.path.join(corpus_lang, "G.fst"), what="G")

    def relabel(label):
        if label == 0:
            return 0
        word = old.get(label)
        if word not in new:
            raise ValueError(
                f"{corpus_lang}/G.fst: word id {label} ({word}) is not in "
                f"{lang_dir}/words.txt"
            )
        return new[word]

    out = kf.StdVectorFst()
    for _ in range(g.num_states):
        out.add_state()
    out.start = g.start
    for s in range(g.num_states):
        final = g.final(s)
        if final != kf.TropicalWeight.zero:
            out.set_final(s, final)
        for arc in kf.ArcIterator(g, s):
            out.add_arc(
                s,
                kf.StdArc(
                    relabel(arc.ilabel),
                    relabel(arc.olabel),
                    arc.weight,
                    arc.nextstate,
                ),
            )
    with atomic_folder(lang_test_dir) as tmp:
        shutil.copytree(lang_dir, tmp, dirs_exist_ok=True)
        write_graph(out, os.path.join(tmp, "G.fst"))
    states = out.num_states
    return states, sum(out.num_arcs(s) for s in range(states))


def main(argv):
    """``dict CORPUS DICT_DIR`` or ``grammar CORPUS LANG LANG_TEST``."""
    try:
        if argv[:1] == ["dict"] and len(argv) == 3:
            n = make_dict(argv[1], argv[2])
            print(f"{argv[2]}: {n} lexicon entries")
        elif argv[:1] == ["grammar"] and len(argv) == 4:
            states, arcs = add_grammar(argv[1], argv[2], argv[3])
            print(f"{argv[3]}/G.fst: {states} states, {arcs} arcs")
        else:
            print(__doc__.split("\n\n")[1], file=sys.stderr)
            return 1
    except (OSError, ValueError) as err:
        print(f"corpus_lang.py: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
