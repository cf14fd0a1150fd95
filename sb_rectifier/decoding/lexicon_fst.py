"""The lexicon transducer L (Kaldi's ``make_lexicon_fst.py``).

L maps phones to words: each pronunciation is a path from a loop state
back to it, with the word on its first arc; optional silence may follow
every word (and start the utterance). With disambiguation symbols
(Kaldi's ``add_lex_disambig.pl``, see :mod:`.lang`), prefix and homophone
pronunciations get ``#1 ... #n``, the silence arc ``#(n+1)``, and the
back-off symbol ``#0`` of an n-gram G passes through the loop state, so
that L o G can be determinised (:mod:`.hclg`).

Authors
 * sb_rectifier developers 2026
"""

import math

import kaldifst as kf

from sb_rectifier.decoding.lang import (
    add_lex_disambig,
    add_symbols,
    disambig_names,
    lexicon_rows,
    pron_cost,
    symbol_table,
)

__all__ = ["make_l"]


def _cost(prob):
    """``-log(prob)``; 0.0 for probability 1."""
    return -math.log(prob) if prob < 1.0 else 0.0


def make_l(
    lexicon,
    phone_ids,
    word_ids,
    silence_phone="SIL",
    silence_prob=0.5,
    disambig=True,
    return_disambig=False,
):
    """The lexicon transducer L: phones in, words out.

    Kaldi's ``make_lexicon_fst.py`` with ``--sil-prob``: words leave and
    enter a loop state; after each word (and at the start) an optional
    silence phone is taken with probability ``silence_prob``. The word
    label is on a pronunciation's first arc; pronunciation probabilities
    (``lexiconp``) become costs. With ``disambig``, prefix and homophone
    pronunciations get ``#1 ... #n`` appended (:func:`.add_lex_disambig`),
    the silence arc is followed by ``#(n+1)`` (Kaldi's
    ``--sil-disambig``), and if ``word_ids`` has ``#0`` (G with back-off)
    the loop state gets the self-loop ``#0:#0`` (Kaldi's
    ``fstaddselfloops``).

    Arguments
    ---------
    lexicon : str or os.PathLike or list of tuple
        ``lexicon.txt``/``lexiconp.txt``, or ``(word, phones)`` /
        ``(word, phones, prob)`` rows.
    phone_ids : dict or str or os.PathLike
        Phone table (``phones.txt``). Disambiguation symbols ``#k`` that
        it lacks get ids above its largest id.
    word_ids : dict or str or os.PathLike
        Word table (``words.txt``).
    silence_phone : str or None
        The optional silence phone; None for no silence.
    silence_prob : float
        Probability of silence after a word and at the start, in [0, 1);
        0 means no optional silence.
    disambig : bool
        Add disambiguation symbols (needed to determinise L o G).
    return_disambig : bool
        Also return the ids of the phone-side disambiguation symbols.

    Returns
    -------
    L : kaldifst.StdVectorFst
        L, not sorted.
    disambig_phones : list of int
        Only if ``return_disambig``: ids of ``#0 ... #(n+1)``, what H
        (:func:`~sb_rectifier.kaldi.hmm_utils.make_h`) must pass through
        (empty without ``disambig``).

    Example
    -------
    >>> phones = {"<eps>": 0, "SIL": 1, "n": 2, "oU": 3}
    >>> words = {"<eps>": 0, "no": 1, "know": 2}
    >>> L, dis = make_l(
    ...     [("no", ["n", "oU"]), ("know", ["n", "oU"])],
    ...     phones,
    ...     words,
    ...     return_disambig=True,
    ... )
    >>> dis  # #0, #1, #2 (homophones), #3 (silence)
    [4, 5, 6, 7]
    >>> from sb_rectifier.decoding.fst_io import graph_size
    >>> graph_size(L)
    (8, 12)
    """
    rows = lexicon_rows(lexicon)
    phone_ids = symbol_table(phone_ids, "make_l phone_ids")
    word_ids = symbol_table(word_ids, "make_l word_ids")
    use_silence = silence_phone is not None and silence_prob > 0.0
    if not 0.0 <= silence_prob < 1.0:
        raise ValueError(f"make_l: silence_prob {silence_prob} not in [0, 1)")
    num_disambig = 0
    if disambig:
        rows, num_disambig = add_lex_disambig(rows)
        names = disambig_names(num_disambig + 1 + int(use_silence))
        phone_ids, disambig_phones = add_symbols(phone_ids, names)
    else:
        disambig_phones = []

    def phone_id(phone, word):
        pid = phone_ids.get(phone)
        if pid is None or pid == 0:
            raise ValueError(
                f"make_l: phone {phone!r} of word {word!r} is not in the "
                "phone table"
            )
        return pid

    def word_id(word):
        wid = word_ids.get(word)
        if wid is None or wid == 0:
            raise ValueError(f"make_l: word {word!r} is not in the word table")
        return wid

    L = kf.StdVectorFst()
    start = L.add_state()
    L.start = start
    if use_silence:
        loop = L.add_state()
        sil_state = L.add_state()
        no_sil_cost = _cost(1.0 - silence_prob)
        sil_cost = _cost(silence_prob)
        silence = phone_id(silence_phone, "<silence>")
        L.add_arc(start, kf.StdArc(0, 0, no_sil_cost, loop))
        L.add_arc(start, kf.StdArc(0, 0, sil_cost, sil_state))
        if disambig:
            after_sil = L.add_state()
            L.add_arc(sil_state, kf.StdArc(silence, 0, 0.0, after_sil))
            L.add_arc(after_sil, kf.StdArc(disambig_phones[-1], 0, 0.0, loop))
        else:
            L.add_arc(sil_state, kf.StdArc(silence, 0, 0.0, loop))
        ends = [(loop, no_sil_cost), (sil_state, sil_cost)]
    else:
        loop = start
        ends = [(loop, 0.0)]
    L.set_final(loop, 0.0)
    for word, phones, prob in rows:
        wid = word_id(word)
        ids = [phone_id(p, word) for p in phones]
        first_cost = pron_cost(prob)
        state = loop
        for i, pid in enumerate(ids[:-1]):
            nxt = L.add_state()
            olabel, cost = (wid, first_cost) if i == 0 else (0, 0.0)
            L.add_arc(state, kf.StdArc(pid, olabel, cost, nxt))
            state = nxt
        single = len(ids) == 1
        for dest, cost in ends:
            L.add_arc(
                state,
                kf.StdArc(
                    ids[-1],
                    wid if single else 0,
                    cost + (first_cost if single else 0.0),
                    dest,
                ),
            )
    if disambig and "#0" in word_ids:
        L.add_arc(
            loop, kf.StdArc(disambig_phones[0], word_ids["#0"], 0.0, loop)
        )
    if return_disambig:
        return L, disambig_phones
    return L
