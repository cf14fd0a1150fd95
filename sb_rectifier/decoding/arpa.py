"""G from an ARPA n-gram model (Kaldi's ``arpa2fst``), through kaldilm.

kaldilm aborts the whole process on a malformed ARPA file, so the file is
checked first, as Kaldi's parser would, with errors naming the file and
the line (:func:`check_arpa`); then :func:`make_g_from_arpa` converts it
with back-off arcs on the disambiguation symbol ``#0``.

Authors
 * sb_rectifier developers 2026
"""

import os
import tempfile

import kaldifst as kf

from sb_rectifier.decoding.lang import add_symbols, symbol_table, write_symbols
from sb_rectifier.files import iter_text_lines

__all__ = ["check_arpa", "make_g_from_arpa", "write_arpa_g"]


def _float(text):
    """True if ``text`` parses as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_arpa(path):
    """Checks an ARPA file as Kaldi's parser does; returns its 1-gram words.

    kaldilm aborts the whole process on a malformed file, so the checks
    that its parser makes are repeated here first.

    Arguments
    ---------
    path : str or os.PathLike
        The ARPA file.

    Returns
    -------
    list of str
        The words of its 1-gram section, in file order.

    Raises
    ------
    ValueError
        Naming the file and the line: a bad count line, an unexpected
        section or line, an n-gram line of the wrong form, a missing
        ``\\\\end\\\\``, counts that differ from the header, bytes that are
        not UTF-8.

    Example
    -------
    >>> path = getfixture("tmp_path") / "lm.arpa"
    >>> _ = path.write_text(
    ...     "\\\\data\\\\\\nngram 1=2\\n\\n\\\\1-grams:\\n-1 <s>\\n-0.5 </s>\\n"
    ...     "\\\\end\\\\\\n"
    ... )
    >>> check_arpa(path)
    ['<s>', '</s>']
    >>> _ = path.write_text(
    ...     "\\\\data\\\\\\nngram 1=1\\n\\\\1-grams:\\n<s> -1\\n"
    ... )
    >>> check_arpa(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../lm.arpa: line 4: invalid 1-gram line '<s> -1' (expected 'logprob w1 .. w1')
    """
    path = os.fspath(path)
    counts, seen, words = {}, {}, []
    order, state = 0, "start"
    for number, raw in iter_text_lines(path, "ARPA file"):
        line = raw.strip()
        where = f"{path}: line {number}"
        if not line:
            continue
        if state == "start":
            if line == "\\data\\":
                state = "data"
            continue
        if line == "\\end\\":
            state = "end"
            break
        if state == "data" and line.startswith("ngram "):
            key, _, value = line[6:].partition("=")
            if not (key.strip().isdigit() and value.strip().isdigit()):
                raise ValueError(f"{where}: bad count line {line!r}")
            counts[int(key)] = int(value)
            continue
        if line.startswith("\\") and line.endswith("-grams:"):
            order = int(line[1:-7]) if line[1:-7].isdigit() else -1
            if order != len(seen) + 1 or order not in counts:
                raise ValueError(f"{where}: unexpected section {line!r}")
            seen[order] = 0
            state = "ngrams"
            continue
        if state != "ngrams":
            raise ValueError(f"{where}: unexpected line {line!r}")
        cols = line.split()
        top = order == max(counts)
        ok = len(cols) == order + 1 or (
            not top and len(cols) == order + 2 and _float(cols[-1])
        )
        if not ok or not _float(cols[0]):
            raise ValueError(
                f"{where}: invalid {order}-gram line {line!r} (expected "
                f"'logprob w1 .. w{order}'"
                + ("" if top else " [backoff]")
                + ")"
            )
        seen[order] += 1
        if order == 1:
            words.append(cols[1])
    if state != "end":
        raise ValueError(f"{path}: not a complete ARPA file (no \\end\\)")
    if not counts or seen != counts:
        raise ValueError(
            f"{path}: n-gram counts {seen} differ from the header {counts}"
        )
    return words


def make_g_from_arpa(
    arpa_path,
    words,
    disambig_symbol="#0",
    bos="<s>",
    eos="</s>",
    oov="error",
    max_order=-1,
):
    """G from an ARPA n-gram model, with ``kaldilm.arpa2fst``.

    As Kaldi's ``arpa2fst --disambig-symbol=#0 --read-symbol-table``:
    back-off arcs get the input label ``#0`` (output epsilon), ``<s>`` and
    ``</s>`` become epsilons and final weights. The word table is
    extended with ``#0``, ``<s>`` and ``</s>`` if it lacks them (ids above
    its largest id, as Kaldi's ``words.txt``); pass the returned table on
    to :func:`~sb_rectifier.decoding.hclg.compile_hclg` so that L gets its
    ``#0`` self-loop (:func:`write_arpa_g` does both for a lang directory).

    Arguments
    ---------
    arpa_path : str or os.PathLike
        The ARPA file.
    words : dict or str or os.PathLike
        Word table (``words.txt``).
    disambig_symbol : str
        Back-off disambiguation symbol.
    bos : str
        Sentence-start symbol of the ARPA file.
    eos : str
        Sentence-end symbol of the ARPA file.
    oov : str
        ``"error"``: raise if the ARPA file has words not in the table;
        ``"skip"``: drop their n-grams (kaldilm warns).
    max_order : int
        Use n-grams up to this order (-1: all).

    Returns
    -------
    G : kaldifst.StdVectorFst
        G, input-label sorted.
    word_ids : dict
        The (extended) word table.

    Example
    -------
    >>> path = getfixture("tmpdir") / "lm.arpa"
    >>> _ = open(path, "w").write(
    ...     "\\\\data\\\\\\nngram 1=3\\n\\n\\\\1-grams:\\n"
    ...     "-1 <s>\\n-0.5 </s>\\n-0.3 yes\\n\\n\\\\end\\\\\\n"
    ... )
    >>> G, table = make_g_from_arpa(path, {"<eps>": 0, "yes": 1})
    >>> table
    {'<eps>': 0, 'yes': 1, '#0': 2, '<s>': 3, '</s>': 4}
    >>> from sb_rectifier.decoding.fst_io import graph_size
    >>> graph_size(G)
    (1, 1)
    """
    # kaldilm must come after kaldifst and kaldi_hmm_gmm: importing either
    # of them after kaldilm hangs (kaldifst 1.7.17, kaldi-hmm-gmm 1.1.4).
    import kaldi_hmm_gmm  # noqa: F401
    import kaldilm

    arpa_path = os.fspath(arpa_path)
    if not os.path.isfile(arpa_path):
        raise FileNotFoundError(f"{arpa_path}: ARPA file not found")
    table, _ = add_symbols(
        symbol_table(words, "make_g_from_arpa words"),
        [disambig_symbol, bos, eos],
    )
    unknown = [w for w in check_arpa(arpa_path) if w not in table]
    if unknown and oov == "error":
        raise ValueError(
            f"{arpa_path}: {len(unknown)} words not in the word table, e.g. "
            f"{unknown[:5]}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        symbols = os.path.join(tmp, "words.txt")
        write_symbols(table, symbols)
        text = kaldilm.arpa2fst(
            arpa_path,
            disambig_symbol=disambig_symbol,
            bos_symbol=bos,
            eos_symbol=eos,
            read_symbol_table=symbols,
            max_arpa_warnings=-1 if oov == "skip" else 30,
            max_order=max_order,
        )
    if not text.strip():
        raise ValueError(f"{arpa_path}: kaldilm produced an empty G")
    G = kf.compile(text)
    kf.arcsort(G, sort_type="ilabel")
    return G, table


def write_arpa_g(arpa_path, lang_dir, oov="error", max_order=-1):
    """Writes ``G.fst`` of an ARPA model into a lang directory.

    As Kaldi's ``utils/format_lm.sh``: G from :func:`make_g_from_arpa`
    over ``lang_dir/words.txt``, written to ``lang_dir/G.fst``; if the
    word table lacked ``#0``, ``<s>`` or ``</s>``, ``words.txt`` is
    rewritten with them (ids above its largest id). Both atomically.

    Arguments
    ---------
    arpa_path : str or os.PathLike
        The ARPA file.
    lang_dir : str or os.PathLike
        The lang directory (with ``words.txt``).
    oov : str
        See :func:`make_g_from_arpa`.
    max_order : int
        See :func:`make_g_from_arpa`.

    Returns
    -------
    str
        The path of ``G.fst``.

    Example
    -------
    >>> lang = getfixture("tmp_path")
    >>> _ = (lang / "words.txt").write_text("<eps> 0\\nyes 1\\n")
    >>> _ = (lang / "lm.arpa").write_text(
    ...     "\\\\data\\\\\\nngram 1=3\\n\\n\\\\1-grams:\\n"
    ...     "-1 <s>\\n-0.5 </s>\\n-0.3 yes\\n\\n\\\\end\\\\\\n"
    ... )
    >>> os.path.basename(write_arpa_g(lang / "lm.arpa", lang))
    'G.fst'
    >>> print((lang / "words.txt").read_text(), end="")
    <eps> 0
    yes 1
    #0 2
    <s> 3
    </s> 4
    """
    from sb_rectifier.decoding.fst_io import write_graph

    lang_dir = os.fspath(lang_dir)
    words_path = os.path.join(lang_dir, "words.txt")
    words = symbol_table(words_path, "words.txt")
    G, table = make_g_from_arpa(arpa_path, words, oov=oov, max_order=max_order)
    if table != words:
        write_symbols(table, words_path)
    path = os.path.join(lang_dir, "G.fst")
    write_graph(G, path)
    return path
