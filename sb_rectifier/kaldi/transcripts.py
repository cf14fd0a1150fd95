"""Transcripts (Kaldi ``text``) as word ids, out-of-vocabulary words counted.

What Kaldi's recipes do with ``utils/sym2int.pl --map-oov <UNK> -f 2-
words.txt < text``, with the mapped words counted instead of only
printed: a word missing from ``words.txt`` becomes the OOV word's id and
is counted (per word and in total), and utterances without words are
listed, so that a mismatch between a lexicon and the transcripts shows.

Authors
 * sb_rectifier developers 2026
"""

import os
from dataclasses import dataclass, field

from sb_rectifier.decoding.lang import EPSILON, is_disambig, symbol_table
from sb_rectifier.files import iter_text_lines

__all__ = ["OovReport", "read_transcript_ids"]

#: Symbols of words.txt that are not words and may not appear in a text.
_NOT_WORDS = ("<s>", "</s>", EPSILON)


@dataclass
class OovReport:
    """Out-of-vocabulary words of a transcript file, mapped to the OOV word.

    Arguments
    ---------
    path : str
        The transcript file.
    oov_word : str
        The word the OOVs were mapped to.
    num_utterances : int
        Utterances read.
    num_tokens : int
        Word tokens read.
    oov_counts : dict
        OOV word -> number of its tokens, most frequent first (ties in
        byte order of the words).
    empty_utterances : list of str
        Utterances without words, in file order.

    Example
    -------
    >>> report = OovReport("text", "<UNK>", 2, 1200, {"foo": 2, "bar": 1})
    >>> report.num_oov_tokens, round(report.oov_rate, 2)
    (3, 0.25)
    >>> report.summary()
    '3 of 1200 word tokens (0.25 %) mapped to <UNK>: foo (2), bar (1)'
    """

    path: str
    oov_word: str
    num_utterances: int = 0
    num_tokens: int = 0
    oov_counts: dict = field(default_factory=dict)
    empty_utterances: list = field(default_factory=list)

    @property
    def num_oov_tokens(self):
        """Tokens mapped to the OOV word."""
        return sum(self.oov_counts.values())

    @property
    def oov_rate(self):
        """Percentage of tokens mapped to the OOV word (0 without tokens)."""
        if not self.num_tokens:
            return 0.0
        return 100.0 * self.num_oov_tokens / self.num_tokens

    def summary(self, max_words=10):
        """One line: how many tokens were mapped, the most frequent OOVs.

        Arguments
        ---------
        max_words : int
            How many OOV words to list; the rest are counted.

        Returns
        -------
        str
            E.g. ``3 of 1200 word tokens (0.25 %) mapped to <UNK>: foo
            (2), bar (1)``, then ``; 2 empty transcripts: u1, u2`` when
            some utterances have no words.

        Example
        -------
        >>> OovReport("text", "<UNK>", 3, 10, {}, ["u3"]).summary()
        '0 of 10 word tokens (0.00 %) mapped to <UNK>; 1 empty transcript: u3'
        """
        text = (
            f"{self.num_oov_tokens} of {self.num_tokens} word tokens "
            f"({self.oov_rate:.2f} %) mapped to {self.oov_word}"
        )
        if self.oov_counts:
            items = list(self.oov_counts.items())
            text += ": " + ", ".join(f"{w} ({c})" for w, c in items[:max_words])
            if len(items) > max_words:
                text += f" and {len(items) - max_words} more words"
        empty = self.empty_utterances
        if empty:
            plural = "s" if len(empty) > 1 else ""
            more = f" and {len(empty) - 5} more" if len(empty) > 5 else ""
            text += (
                f"; {len(empty)} empty transcript{plural}: "
                f"{', '.join(empty[:5])}{more}"
            )
        return text


def read_transcript_ids(text_path, word_ids, oov_word):
    """Reads a Kaldi ``text`` file as word ids, mapping OOVs to ``oov_word``.

    Arguments
    ---------
    text_path : str or os.PathLike
        ``utt word word ...`` per line (an utterance may have no words).
    word_ids : dict or str or os.PathLike
        ``words.txt`` or its table (word -> id).
    oov_word : str
        The word that words missing from ``word_ids`` become (e.g.
        ``<UNK>``, the content of a lang folder's ``oov.txt``); it must
        be in ``word_ids``.

    Returns
    -------
    ids : dict
        Utterance -> list of word ids, in file order.
    report : OovReport
        The OOV and empty-transcript counts.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file and the line: an empty file, an empty line, a
        duplicate utterance, a transcript containing ``<eps>``, ``<s>``,
        ``</s>`` or a disambiguation symbol ``#k``; or an OOV word not in
        ``word_ids``.

    Example
    -------
    >>> path = getfixture("tmp_path") / "text"
    >>> _ = path.write_text("u1 no no foo\\nu2\\nu3 know bar foo\\n")
    >>> words = {"<eps>": 0, "<UNK>": 1, "know": 2, "no": 3}
    >>> ids, report = read_transcript_ids(path, words, "<UNK>")
    >>> ids
    {'u1': [3, 3, 1], 'u2': [], 'u3': [2, 1, 1]}
    >>> report.summary()
    '3 of 6 word tokens (50.00 %) mapped to <UNK>: foo (2), bar (1); 1 empty transcript: u2'
    """
    path = os.fspath(text_path)
    words_what = (
        os.fspath(word_ids)
        if isinstance(word_ids, (str, os.PathLike))
        else "the word table"
    )
    word_ids = symbol_table(word_ids, "read_transcript_ids word_ids")
    if oov_word not in word_ids:
        raise ValueError(
            f"{path}: the OOV word {oov_word!r} is not in {words_what}"
        )
    oov_id = word_ids[oov_word]
    ids, counts, lines = {}, {}, {}
    report = OovReport(path, oov_word)
    for number, line in iter_text_lines(path, "transcript"):
        tokens = line.split()
        if not tokens:
            raise ValueError(f"{path}: line {number}: empty line")
        utt, words = tokens[0], tokens[1:]
        if utt in lines:
            raise ValueError(
                f"{path}: line {number}: duplicate utterance {utt!r} "
                f"(already on line {lines[utt]})"
            )
        lines[utt] = number
        row = []
        for word in words:
            if word in _NOT_WORDS or is_disambig(word):
                raise ValueError(
                    f"{path}: line {number}: utterance {utt!r} contains "
                    f"{word!r}, a symbol that is not a word"
                )
            wid = word_ids.get(word)
            if wid is None:
                counts[word] = counts.get(word, 0) + 1
                wid = oov_id
            row.append(wid)
        if not row:
            report.empty_utterances.append(utt)
        ids[utt] = row
        report.num_tokens += len(row)
    if not ids:
        raise ValueError(f"{path}: empty transcript file (no utterances)")
    report.num_utterances = len(ids)
    report.oov_counts = dict(
        sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return ids, report
