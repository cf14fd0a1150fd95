"""Kaldi HMM topology and transition model, read and written without Kaldi.

A Kaldi ``final.mdl`` (GMM or nnet3) starts with a ``<TransitionModel>``
object: the HMM topology, the list of transition-state tuples
``(phone, hmm_state, forward_pdf, self_loop_pdf)`` and the transition
log-probabilities. Alignments (``ali.*.gz``) are sequences of transition-ids
(1-based) that this object maps to pdf ids (the DNN output targets) and
phones.

No Python package reads this object from a file (``kaldiio`` does not know
it; ``kaldi_hmm_gmm`` can build one but not read one), so the reader and
writer are hand-written here, following Kaldi's ``hmm-topology.cc`` and
``transition-model.cc``: text and binary forms, old (``<Triples>``) and new
(``<Tuples>``, chain topologies with a separate self-loop pdf class) forms.
The derived tables reproduce ``TransitionModel::ComputeDerived()`` exactly;
the test-suite checks them against Kaldi's own C++ (``kaldi_hmm_gmm``).

Authors
 * sb_rectifier developers 2026
"""

import itertools
import math
import os
import struct
from dataclasses import dataclass, field

import numpy as np

from sb_rectifier.kaldi.archives import open_atomic

NO_PDF = -1  # Kaldi's kNoPdf: a non-emitting state.

_TEXT_END = b"</TransitionModel>"
_CHUNK = 1 << 20


def _f32(value):
    """Rounds a number to float32, like Kaldi's BaseFloat, as a float."""
    return float(np.float32(value))


def _format_float(value, precision=6):
    """Formats a float like C++ ``std::ostream << value`` (default flags)."""
    if math.isnan(value):
        return "nan" if math.copysign(1.0, value) > 0 else "-nan"
    return f"{value:.{precision}g}"


@dataclass
class HmmState:
    """One state of a Kaldi HMM topology entry.

    Arguments
    ---------
    forward_pdf_class : int
        The pdf class of the transitions leaving the state (-1: no pdf, a
        non-emitting state such as the final state).
    self_loop_pdf_class : int
        The pdf class of the self-loop (equal to ``forward_pdf_class`` for
        normal HMMs; chain topologies may differ).
    transitions : list of (int, float)
        ``(destination_state, probability)`` pairs, in topology order.

    Example
    -------
    >>> state = HmmState(0, 0, [(0, 0.75), (1, 0.25)])
    >>> state.transitions[1]
    (1, 0.25)
    """

    forward_pdf_class: int = NO_PDF
    self_loop_pdf_class: int = NO_PDF
    transitions: list = field(default_factory=list)


class HmmTopology:
    """A Kaldi HMM topology (``<Topology>`` object, ``lang/topo``).

    Arguments
    ---------
    entries : list of list of HmmState
        The topology entries (one HMM each).
    entry_phones : list of list of int
        For each entry, the phones (ids > 0) that use it.

    Example
    -------
    >>> topo = HmmTopology.left_to_right([1, 2, 3])
    >>> topo.phones
    [1, 2, 3]
    >>> topo.num_pdf_classes(2)
    3
    >>> [s.forward_pdf_class for s in topo.topology_for_phone(1)]
    [0, 1, 2, -1]
    """

    def __init__(self, entries, entry_phones):
        if len(entries) != len(entry_phones):
            raise ValueError(
                f"HmmTopology: {len(entries)} entries but phone lists for "
                f"{len(entry_phones)}"
            )
        self.entries = []
        for entry in entries:
            states = []
            for state in entry:
                fwd = int(state.forward_pdf_class)
                loop = int(state.self_loop_pdf_class)
                trans = [(int(d), _f32(p)) for d, p in state.transitions]
                states.append(HmmState(fwd, loop, trans))
            self.entries.append(states)
        max_phone = max((max(p) for p in entry_phones if len(p)), default=0)
        self.phone2idx = [-1] * (max_phone + 1)
        self.phones = []
        for idx, phones in enumerate(entry_phones):
            for phone in phones:
                phone = int(phone)
                if phone <= 0:
                    raise ValueError(
                        f"HmmTopology: phone ids must be > 0, got {phone}"
                    )
                if self.phone2idx[phone] != -1:
                    raise ValueError(
                        f"HmmTopology: phone {phone} appears in multiple "
                        "topology entries"
                    )
                self.phone2idx[phone] = idx
                self.phones.append(phone)
        self.phones.sort()
        self._check()

    def _check(self):
        """Port of Kaldi's HmmTopology::Check(); raises ValueError."""
        if not self.entries or not self.phones:
            raise ValueError("HmmTopology: empty topology")
        used = {self.phone2idx[p] for p in self.phones}
        for i, entry in enumerate(self.entries):
            where = f"HmmTopology entry {i}"
            if i not in used:
                raise ValueError(f"{where}: no phone uses this entry")
            n = len(entry)
            if n <= 1:
                raise ValueError(f"{where}: needs at least one emitting state")
            if entry[-1].transitions or entry[-1].forward_pdf_class != NO_PDF:
                raise ValueError(
                    f"{where}: the last state must be non-emitting and have "
                    "no transitions"
                )
            has_in = [False] * n
            classes = set()
            for j, state in enumerate(entry):
                if (state.forward_pdf_class == NO_PDF) != (
                    state.self_loop_pdf_class == NO_PDF
                ):
                    raise ValueError(
                        f"{where}, state {j}: forward and self-loop pdf "
                        "classes must both be set or both be absent"
                    )
                if state.forward_pdf_class != NO_PDF:
                    classes.add(state.forward_pdf_class)
                    classes.add(state.self_loop_pdf_class)
                dests = set()
                for dest, prob in state.transitions:
                    if prob <= 0.0:
                        raise ValueError(
                            f"{where}, state {j}: transition probability "
                            f"{prob} is not positive"
                        )
                    if not 0 <= dest < n:
                        raise ValueError(
                            f"{where}, state {j}: invalid destination {dest}"
                        )
                    if dest == n - 1 and state.forward_pdf_class == NO_PDF:
                        raise ValueError(
                            f"{where}, state {j}: a non-emitting state may "
                            "not lead to the final state"
                        )
                    if dest in dests:
                        raise ValueError(
                            f"{where}, state {j}: duplicate transition to "
                            f"{dest}"
                        )
                    if dest == j and state.self_loop_pdf_class == NO_PDF:
                        raise ValueError(
                            f"{where}, state {j}: a non-emitting state "
                            "cannot have a self-loop"
                        )
                    dests.add(dest)
                    has_in[dest] = True
                if j + 1 < n and not state.transitions:
                    raise ValueError(
                        f"{where}, state {j}: a non-final state needs "
                        "transitions out"
                    )
            for j in range(1, n):
                if not has_in[j]:
                    raise ValueError(
                        f"{where}: state {j} has no input transitions"
                    )
            if sorted(classes) != list(range(len(classes))):
                raise ValueError(
                    f"{where}: pdf classes must be contiguous from 0, got "
                    f"{sorted(classes)}"
                )

    @property
    def is_hmm(self):
        """True unless some state has different forward/self-loop classes."""
        return all(
            s.forward_pdf_class == s.self_loop_pdf_class
            for entry in self.entries
            for s in entry
        )

    def topology_for_phone(self, phone):
        """The list of HmmState of ``phone``'s entry.

        Arguments
        ---------
        phone : int
            A phone id.

        Returns
        -------
        list of HmmState
            The states (the last one is the final, non-emitting state).

        Example
        -------
        >>> topo = HmmTopology.left_to_right([1, 2], num_states=2)
        >>> [s.transitions for s in topo.topology_for_phone(2)]
        [[(0, 0.75), (1, 0.25)], [(1, 0.75), (2, 0.25)], []]
        """
        phone = int(phone)
        if not 0 <= phone < len(self.phone2idx) or self.phone2idx[phone] < 0:
            raise ValueError(f"HmmTopology: phone {phone} is not covered")
        return self.entries[self.phone2idx[phone]]

    def num_pdf_classes(self, phone):
        """Number of pdf classes of ``phone`` (1 + the largest class).

        Arguments
        ---------
        phone : int
            A phone id.

        Returns
        -------
        int
            The number of pdf classes.

        Example
        -------
        >>> HmmTopology.left_to_right([1], num_states=5).num_pdf_classes(1)
        5
        """
        best = 0
        for state in self.topology_for_phone(phone):
            best = max(best, state.forward_pdf_class, state.self_loop_pdf_class)
        return best + 1

    def entry_phones(self):
        """The phones of each entry, in increasing order.

        Returns
        -------
        list of list of int
            ``entry_phones()[i]`` lists the phones using ``entries[i]``.

        Example
        -------
        >>> HmmTopology.left_to_right([3, 1]).entry_phones()
        [[1, 3]]
        """
        result = [[] for _ in self.entries]
        for phone, idx in enumerate(self.phone2idx):
            if idx >= 0:
                result[idx].append(phone)
        return result

    def __eq__(self, other):
        if not isinstance(other, HmmTopology):
            return NotImplemented
        return (
            self.entries == other.entries and self.phone2idx == other.phone2idx
        )

    def __repr__(self):
        return (
            f"HmmTopology({len(self.entries)} entries, "
            f"{len(self.phones)} phones)"
        )

    @classmethod
    def left_to_right(cls, phones, num_states=3, self_loop_prob=0.75):
        """Kaldi's standard left-to-right topology, one entry for all phones.

        Each emitting state ``i`` (pdf class ``i``) has a self-loop with
        probability ``self_loop_prob`` and a forward transition to ``i + 1``;
        state ``num_states`` is the final, non-emitting state.

        Arguments
        ---------
        phones : iterable of int
            The phone ids (> 0).
        num_states : int
            The number of emitting states.
        self_loop_prob : float
            The initial self-loop probability.

        Returns
        -------
        HmmTopology
            The topology.

        Example
        -------
        >>> print(HmmTopology.left_to_right([1, 2], num_states=1).to_text())
        <Topology>
        <TopologyEntry>
        <ForPhones>
        1 2
        </ForPhones>
        <State> 0 <PdfClass> 0 <Transition> 0 0.75 <Transition> 1 0.25 </State>
        <State> 1 </State>
        </TopologyEntry>
        </Topology>
        <BLANKLINE>
        """
        if num_states < 1 or not 0.0 < self_loop_prob < 1.0:
            raise ValueError(
                "left_to_right: need num_states >= 1 and 0 < self_loop_prob < 1"
            )
        states = [
            HmmState(i, i, [(i, self_loop_prob), (i + 1, 1.0 - self_loop_prob)])
            for i in range(num_states)
        ]
        states.append(HmmState())
        return cls([states], [sorted(int(p) for p in phones)])

    @classmethod
    def from_text(cls, text):
        """Parses Kaldi's text topology (``<Topology> ... </Topology>``).

        Both ``<PdfClass> c`` and ``<ForwardPdfClass> f <SelfLoopPdfClass> s``
        state forms are accepted; a state without one is non-emitting.

        Arguments
        ---------
        text : str
            The topology text (e.g. the content of ``lang/topo``).

        Returns
        -------
        HmmTopology
            The topology.

        Example
        -------
        >>> topo = HmmTopology.from_text('''<Topology>
        ... <TopologyEntry> <ForPhones> 1 2 </ForPhones>
        ... <State> 0 <ForwardPdfClass> 0 <SelfLoopPdfClass> 1
        ...   <Transition> 0 0.5 <Transition> 1 0.5 </State>
        ... <State> 1 </State>
        ... </TopologyEntry> </Topology>''')
        >>> topo.is_hmm, topo.num_pdf_classes(1)
        (False, 2)
        """
        tokens = _TextTokens(text.split(), "topology text")
        topo = _read_topology(tokens, binary=False)
        return topo

    @classmethod
    def read(cls, path):
        """Reads a Kaldi text topology file (``lang/topo``).

        Arguments
        ---------
        path : str or os.PathLike
            The file.

        Returns
        -------
        HmmTopology
            The topology.

        Example
        -------
        >>> path = getfixture("tmpdir") / "topo"
        >>> _ = open(path, "w").write(HmmTopology.left_to_right([1]).to_text())
        >>> HmmTopology.read(path).phones
        [1]
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: HMM topology file not found")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            return cls.from_text(text)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from err

    def to_text(self, precision=6):
        """Kaldi's text form of the topology (``HmmTopology::Write``).

        Arguments
        ---------
        precision : int
            Significant digits of the probabilities.

        Returns
        -------
        str
            The text, exactly as Kaldi writes it.

        Example
        -------
        >>> text = HmmTopology.left_to_right([1]).to_text()
        >>> HmmTopology.from_text(text) == HmmTopology.left_to_right([1])
        True
        """
        out = []
        _write_topology(self, _TextWriter(out, precision), binary=False)
        return "".join(out)


class _TextTokens:
    """Token stream over whitespace-separated Kaldi text."""

    def __init__(self, tokens, name):
        self.tokens = tokens
        self.pos = 0
        self.name = name

    def token(self):
        if self.pos >= len(self.tokens):
            raise ValueError(f"{self.name}: unexpected end of data")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expect(self, expected):
        got = self.token()
        if got != expected:
            raise ValueError(f"{self.name}: expected {expected}, got {got!r}")

    def int(self):
        tok = self.token()
        try:
            return int(tok)
        except ValueError:
            raise ValueError(
                f"{self.name}: expected an integer, got {tok!r}"
            ) from None

    def float(self):
        tok = self.token()
        try:
            return _f32(float(tok))
        except ValueError:
            raise ValueError(
                f"{self.name}: expected a number, got {tok!r}"
            ) from None

    def float_vector(self):
        self.expect("[")
        values = []
        while self.peek() != "]":
            values.append(self.float())
        self.token()
        return np.array(values, dtype=np.float32)


class _BinaryTokens:
    """Reader for Kaldi's binary encoding on a file object."""

    def __init__(self, f, name):
        self.f = f
        self.name = name

    def _read(self, n):
        data = self.f.read(n)
        if len(data) != n:
            raise ValueError(f"{self.name}: unexpected end of file")
        return data

    def token(self):
        char = self._read(1)
        while char.isspace():
            char = self._read(1)
        token = bytearray()
        while not char.isspace():
            token += char
            if len(token) > 64:
                raise ValueError(
                    f"{self.name}: garbage where a token was expected "
                    f"({bytes(token[:20])!r}...)"
                )
            char = self._read(1)
        if char != b" ":
            raise ValueError(
                f"{self.name}: token {token.decode(errors='replace')!r} not "
                "followed by a space"
            )
        return token.decode("ascii", errors="replace")

    def peek(self):
        return None

    def expect(self, expected):
        got = self.token()
        if got != expected:
            raise ValueError(f"{self.name}: expected {expected}, got {got!r}")

    def int(self):
        size = self._read(1)
        if size != b"\x04":
            raise ValueError(
                f"{self.name}: expected a 4-byte integer, size byte is {size!r}"
            )
        return struct.unpack("<i", self._read(4))[0]

    def float(self):
        size = self._read(1)
        if size == b"\x04":
            return _f32(struct.unpack("<f", self._read(4))[0])
        if size == b"\x08":
            return _f32(struct.unpack("<d", self._read(8))[0])
        raise ValueError(
            f"{self.name}: expected a float, size byte is {size!r}"
        )

    def int_vector(self):
        size = self._read(1)
        if size != b"\x04":
            raise ValueError(
                f"{self.name}: expected an int32 vector, size byte is {size!r}"
            )
        n = struct.unpack("<i", self._read(4))[0]
        if n < 0:
            raise ValueError(f"{self.name}: negative vector length {n}")
        return list(struct.unpack(f"<{n}i", self._read(4 * n)))

    def float_vector(self):
        kind = self.token()
        if kind not in ("FV", "DV"):
            raise ValueError(f"{self.name}: expected FV or DV, got {kind!r}")
        n = self.int()
        if n < 0:
            raise ValueError(f"{self.name}: negative vector length {n}")
        dtype, width = ("<f4", 4) if kind == "FV" else ("<f8", 8)
        data = np.frombuffer(self._read(width * n), dtype=dtype)
        return data.astype(np.float32)


class _TextWriter:
    """Kaldi text-mode writer (WriteToken / WriteBasicType)."""

    def __init__(self, out, precision=6):
        self.out = out
        self.precision = precision

    def token(self, tok):
        self.out.append(tok + " ")

    def int(self, value):
        self.out.append(f"{int(value)} ")

    def float(self, value):
        self.out.append(_format_float(value, self.precision) + " ")

    def newline(self):
        self.out.append("\n")

    def raw(self, text):
        self.out.append(text)

    def float_vector(self, values):
        body = "".join(
            _format_float(float(v), self.precision) + " " for v in values
        )
        self.out.append(" [ " + body + "]\n")


class _BinaryWriter:
    """Kaldi binary-mode writer."""

    def __init__(self, out):
        self.out = out

    def token(self, tok):
        self.out.append(tok.encode("ascii") + b" ")

    def int(self, value):
        self.out.append(b"\x04" + struct.pack("<i", int(value)))

    def float(self, value):
        self.out.append(b"\x04" + struct.pack("<f", value))

    def newline(self):
        pass

    def int_vector(self, values):
        self.out.append(
            b"\x04" + struct.pack(f"<i{len(values)}i", len(values), *values)
        )

    def float_vector(self, values):
        self.token("FV")
        self.int(len(values))
        self.out.append(np.asarray(values, dtype="<f4").tobytes())


def _read_topology(tokens, binary):
    """HmmTopology::Read (text or binary)."""
    tokens.expect("<Topology>")
    if not binary:
        entries, entry_phones = [], []
        while True:
            tok = tokens.token()
            if tok == "</Topology>":
                break
            if tok != "<TopologyEntry>":
                raise ValueError(
                    f"{tokens.name}: expected <TopologyEntry> or </Topology>, "
                    f"got {tok!r}"
                )
            tokens.expect("<ForPhones>")
            phones = []
            while tokens.peek() != "</ForPhones>":
                phones.append(tokens.int())
            tokens.token()
            states = []
            tok = tokens.token()
            while tok != "</TopologyEntry>":
                if tok != "<State>":
                    raise ValueError(
                        f"{tokens.name}: expected <State> or "
                        f"</TopologyEntry>, got {tok!r}"
                    )
                index = tokens.int()
                if index != len(states):
                    raise ValueError(
                        f"{tokens.name}: states must be numbered from 0 in "
                        f"order, expected {len(states)}, got {index}"
                    )
                tok = tokens.token()
                fwd = loop = NO_PDF
                if tok == "<PdfClass>":
                    fwd = loop = tokens.int()
                    tok = tokens.token()
                elif tok == "<ForwardPdfClass>":
                    fwd = tokens.int()
                    tokens.expect("<SelfLoopPdfClass>")
                    loop = tokens.int()
                    tok = tokens.token()
                transitions = []
                while tok == "<Transition>":
                    dest = tokens.int()
                    transitions.append((dest, tokens.float()))
                    tok = tokens.token()
                if tok != "</State>":
                    raise ValueError(
                        f"{tokens.name}: expected </State>, got {tok!r}"
                    )
                states.append(HmmState(fwd, loop, transitions))
                tok = tokens.token()
            entries.append(states)
            entry_phones.append(phones)
        return HmmTopology(entries, entry_phones)

    phones = tokens.int_vector()
    phone2idx = tokens.int_vector()
    num_entries = tokens.int()
    is_hmm = True
    if num_entries == -1:
        is_hmm = False
        num_entries = tokens.int()
    if not 0 <= num_entries < 1_000_000:
        raise ValueError(f"{tokens.name}: bad number of entries {num_entries}")
    entries = []
    for _ in range(num_entries):
        num_states = tokens.int()
        if not 0 <= num_states < 100_000:
            raise ValueError(f"{tokens.name}: bad number of states")
        states = []
        for _ in range(num_states):
            fwd = tokens.int()
            loop = fwd if is_hmm else tokens.int()
            num_trans = tokens.int()
            if not 0 <= num_trans < 100_000:
                raise ValueError(f"{tokens.name}: bad number of transitions")
            transitions = []
            for _ in range(num_trans):
                dest = tokens.int()
                transitions.append((dest, tokens.float()))
            states.append(HmmState(fwd, loop, transitions))
        entries.append(states)
    tokens.expect("</Topology>")
    entry_phones = [[] for _ in entries]
    for phone, idx in enumerate(phone2idx):
        if idx >= len(entries):
            raise ValueError(
                f"{tokens.name}: phone {phone} maps to missing entry {idx}"
            )
        if idx >= 0:
            entry_phones[idx].append(phone)
    topo = HmmTopology(entries, entry_phones)
    if topo.phones != sorted(phones):
        raise ValueError(
            f"{tokens.name}: topology phone list {phones} does not match "
            "its phone-to-entry map"
        )
    return topo


def _write_topology(topo, w, binary):
    """HmmTopology::Write (text or binary)."""
    is_hmm = topo.is_hmm
    w.token("<Topology>")
    if not binary:
        w.newline()
        for i, phones in enumerate(topo.entry_phones()):
            w.token("<TopologyEntry>")
            w.newline()
            w.token("<ForPhones>")
            w.newline()
            w.raw("".join(f"{p} " for p in phones))
            w.newline()
            w.token("</ForPhones>")
            w.newline()
            for j, state in enumerate(topo.entries[i]):
                w.token("<State>")
                w.int(j)
                if state.forward_pdf_class != NO_PDF:
                    if is_hmm:
                        w.token("<PdfClass>")
                        w.int(state.forward_pdf_class)
                    else:
                        w.token("<ForwardPdfClass>")
                        w.int(state.forward_pdf_class)
                        w.token("<SelfLoopPdfClass>")
                        w.int(state.self_loop_pdf_class)
                for dest, prob in state.transitions:
                    w.token("<Transition>")
                    w.int(dest)
                    w.float(prob)
                w.token("</State>")
                w.newline()
            w.token("</TopologyEntry>")
            w.newline()
    else:
        w.int_vector(topo.phones)
        w.int_vector(topo.phone2idx)
        if not is_hmm:
            w.int(-1)
        w.int(len(topo.entries))
        for entry in topo.entries:
            w.int(len(entry))
            for state in entry:
                w.int(state.forward_pdf_class)
                if not is_hmm:
                    w.int(state.self_loop_pdf_class)
                w.int(len(state.transitions))
                for dest, prob in state.transitions:
                    w.int(dest)
                    w.float(prob)
    w.token("</Topology>")
    w.newline()


class TransitionModel:
    """A Kaldi transition model: maps transition-ids to pdfs and phones.

    Transition-ids are numbered as in Kaldi's ``ComputeDerived()``: for each
    transition state (one per tuple, 1-based, in tuple order), one id per
    transition of that HMM state in the phone's topology entry, consecutive.
    A transition-id's pdf is the tuple's self-loop pdf when the transition
    returns to its own state, else its forward pdf. Per-id lookup tables
    (index 0 = epsilon, filled with -1) are numpy arrays.

    Arguments
    ---------
    topology : HmmTopology
        The HMM topology.
    tuples : list of tuple
        ``(phone, hmm_state, forward_pdf, self_loop_pdf)`` per transition
        state, sorted and unique (Kaldi's order). 3-tuples
        ``(phone, hmm_state, pdf)`` mean ``self_loop_pdf == forward_pdf``.
    log_probs : array-like, optional
        Transition log-probabilities, length ``num_transition_ids + 1``
        (index 0 unused). Default: the log of the topology's probabilities,
        as Kaldi initialises a new model.

    Example
    -------
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> tm.num_pdfs, tm.num_transition_ids, tm.num_transition_states
    (6, 12, 6)
    >>> tm.tid2pdf.tolist()
    [-1, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    >>> tm.ali_to_pdf([1, 1, 2, 3, 4, 6]).tolist()
    [0, 0, 0, 1, 1, 2]
    """

    def __init__(self, topology, tuples, log_probs=None):
        self.topology = topology
        self.source = None
        self.tuples = []
        for t in tuples:
            t = tuple(int(x) for x in t)
            if len(t) == 3:
                t = t + (t[2],)
            if len(t) != 4:
                raise ValueError(f"TransitionModel: bad tuple {t}")
            self.tuples.append(t)
        if not self.tuples:
            raise ValueError("TransitionModel: no transition states")
        if topology.is_hmm:
            for t in self.tuples:
                if t[2] != t[3]:
                    raise ValueError(
                        f"TransitionModel: tuple {t} has a self-loop pdf "
                        "different from its forward pdf, but the topology "
                        "has no separate self-loop pdf classes"
                    )
        for a, b in itertools.pairwise(self.tuples):
            if not a < b:
                raise ValueError(
                    f"TransitionModel: tuples must be sorted and unique "
                    f"({a} before {b})"
                )
        self._compute_derived()
        if log_probs is None:
            self.log_probs = self._initial_log_probs()
        else:
            self.log_probs = np.asarray(log_probs, dtype=np.float32).copy()
        n = self.num_transition_ids
        if self.log_probs.shape != (n + 1,):
            raise ValueError(
                f"TransitionModel: {self.log_probs.size} log-probs for {n} "
                f"transition-ids (expected {n + 1}, index 0 unused)"
            )
        lp = self.log_probs[1:]
        if not np.all(np.isfinite(lp)) or np.any(lp > 0.0):
            bad = int(np.flatnonzero(~np.isfinite(lp) | (lp > 0.0))[0]) + 1
            raise ValueError(
                f"TransitionModel: log-prob of transition-id {bad} is "
                f"{self.log_probs[bad]} (must be finite and <= 0)"
            )

    def _compute_derived(self):
        """Port of TransitionModel::ComputeDerived()."""
        tid2pdf, tid2phone, tid2hmm, tid2ts = [-1], [-1], [-1], [-1]
        self_loop, dest_list, index_list = [False], [-1], [-1]
        self.tstate2first_tid = np.zeros(len(self.tuples) + 2, dtype=np.int32)
        for tstate, (phone, hmm_state, fwd, loop) in enumerate(self.tuples, 1):
            self.tstate2first_tid[tstate] = len(tid2pdf)
            entry = self.topology.topology_for_phone(phone)
            if not 0 <= hmm_state < len(entry) - 1:
                raise ValueError(
                    f"TransitionModel: tuple {self.tuples[tstate - 1]}: phone "
                    f"{phone} has no emitting HMM state {hmm_state}"
                )
            if fwd < 0 or loop < 0:
                raise ValueError(
                    f"TransitionModel: tuple {self.tuples[tstate - 1]}: "
                    "negative pdf id"
                )
            for index, (dest, _prob) in enumerate(entry[hmm_state].transitions):
                is_loop = dest == hmm_state
                tid2pdf.append(loop if is_loop else fwd)
                tid2phone.append(phone)
                tid2hmm.append(hmm_state)
                tid2ts.append(tstate)
                self_loop.append(is_loop)
                dest_list.append(dest)
                index_list.append(index)
        self.tstate2first_tid[len(self.tuples) + 1] = len(tid2pdf)
        self.tid2pdf = np.array(tid2pdf, dtype=np.int32)
        self.tid2phone = np.array(tid2phone, dtype=np.int32)
        self.tid2hmm_state = np.array(tid2hmm, dtype=np.int32)
        self.tid2tstate = np.array(tid2ts, dtype=np.int32)
        self.tid_is_self_loop = np.array(self_loop, dtype=bool)
        self.tid2dest = np.array(dest_list, dtype=np.int32)
        self.tid2trans_index = np.array(index_list, dtype=np.int32)
        self._num_pdfs = 1 + max(max(t[2], t[3]) for t in self.tuples)

    def _initial_log_probs(self):
        """Port of TransitionModel::InitializeProbs()."""
        probs = np.ones(self.num_transition_ids + 1, dtype=np.float32)
        for tid in range(1, self.num_transition_ids + 1):
            phone = int(self.tid2phone[tid])
            state = self.topology.topology_for_phone(phone)[
                int(self.tid2hmm_state[tid])
            ]
            probs[tid] = state.transitions[int(self.tid2trans_index[tid])][1]
        log_probs = np.log(probs)
        log_probs[0] = 0.0
        return log_probs

    @property
    def num_pdfs(self):
        """Number of pdfs: 1 + the largest pdf id in the tuples."""
        return self._num_pdfs

    @property
    def num_phones(self):
        """Number of phones in the topology (Kaldi's ``GetPhones().size()``)."""
        return len(self.topology.phones)

    @property
    def phones(self):
        """The sorted phone ids of the topology."""
        return list(self.topology.phones)

    @property
    def num_transition_ids(self):
        """Number of transition-ids (they run from 1 to this number)."""
        return len(self.tid2pdf) - 1

    @property
    def num_transition_states(self):
        """Number of transition states (= number of tuples)."""
        return len(self.tuples)

    @property
    def is_hmm(self):
        """Kaldi's ``IsHmm()``: no state has a separate self-loop pdf class.

        Decided from the topology, as in Kaldi; it implies that every
        tuple has ``self_loop_pdf == forward_pdf``.
        """
        return self.topology.is_hmm

    def tuple_to_transition_state(
        self, phone, hmm_state, forward_pdf, loop_pdf
    ):
        """The transition state (1-based) of a tuple.

        Arguments
        ---------
        phone : int
            Phone id.
        hmm_state : int
            HMM state index within the phone's topology entry.
        forward_pdf : int
            Forward pdf id.
        loop_pdf : int
            Self-loop pdf id.

        Returns
        -------
        int
            The transition state.

        Example
        -------
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
        >>> tm.tuple_to_transition_state(2, 0, 3, 3)
        4
        """
        key = (int(phone), int(hmm_state), int(forward_pdf), int(loop_pdf))
        lookup = getattr(self, "_tuple_index", None)
        if lookup is None:
            lookup = {t: i + 1 for i, t in enumerate(self.tuples)}
            self._tuple_index = lookup
        if key not in lookup:
            raise ValueError(f"TransitionModel: tuple {key} not found")
        return lookup[key]

    def pair_to_transition_id(self, tstate, trans_index):
        """The transition-id of transition ``trans_index`` of ``tstate``.

        Arguments
        ---------
        tstate : int
            Transition state (1-based).
        trans_index : int
            Index of the transition in the HMM state's transition list.

        Returns
        -------
        int
            The transition-id.

        Example
        -------
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
        >>> tm.pair_to_transition_id(4, 1)
        8
        """
        if not 1 <= tstate <= self.num_transition_states:
            raise ValueError(f"TransitionModel: bad transition state {tstate}")
        first = int(self.tstate2first_tid[tstate])
        count = int(self.tstate2first_tid[tstate + 1]) - first
        if not 0 <= trans_index < count:
            raise ValueError(
                f"TransitionModel: transition state {tstate} has {count} "
                f"transitions, no index {trans_index}"
            )
        return first + trans_index

    def self_loop_of(self, tstate):
        """The self-loop transition-id of ``tstate`` (0 if it has none).

        Arguments
        ---------
        tstate : int
            Transition state (1-based).

        Returns
        -------
        int
            The transition-id, or 0.

        Example
        -------
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1]))
        >>> tm.self_loop_of(2)
        3
        """
        first = self.pair_to_transition_id(tstate, 0)
        end = int(self.tstate2first_tid[tstate + 1])
        for tid in range(first, end):
            if self.tid_is_self_loop[tid]:
                return tid
        return 0

    def _check_tids(self, ali, context):
        ali = np.asarray(ali)
        prefix = f"{context}: " if context else ""
        if ali.ndim != 1 or (ali.dtype.kind not in "iu" and ali.size):
            raise ValueError(
                f"{prefix}an alignment must be a 1-D integer array, got a "
                f"{ali.dtype} array of shape {ali.shape}"
            )
        ali = ali.astype(np.int64, copy=False)
        n = self.num_transition_ids
        bad = np.flatnonzero((ali < 1) | (ali > n))
        if bad.size:
            first = int(bad[0])
            model = f" of {self.source}" if self.source else ""
            extra = (
                f" ({bad.size} of {ali.size} frames out of range)"
                if bad.size > 1
                else ""
            )
            raise ValueError(
                f"{prefix}transition-id {int(ali[first])} at frame {first} "
                f"out of range 1..{n}{model}{extra}"
            )
        return ali

    def ali_to_pdf(self, ali, context=""):
        """Maps a transition-id sequence to pdf ids (Kaldi's ``ali-to-pdf``).

        Arguments
        ---------
        ali : array-like of int
            Transition-ids, one per frame.
        context : str
            Prefixed to error messages (e.g. ``"ali.1.gz: utterance 'u1'"``).

        Returns
        -------
        numpy.ndarray
            int32 pdf ids, one per frame.

        Example
        -------
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1]))
        >>> tm.ali_to_pdf([1, 2, 3, 4, 5, 6]).tolist()
        [0, 0, 1, 1, 2, 2]
        >>> tm.ali_to_pdf([1, 9], context="ali.1.gz: utterance 'u1'")
        Traceback (most recent call last):
         ...
        ValueError: ali.1.gz: utterance 'u1': transition-id 9 at frame 1 out of range 1..6
        """
        return self.tid2pdf[self._check_tids(ali, context)].astype(np.int32)

    def ali_to_phones(self, ali, context=""):
        """Maps a transition-id sequence to phone ids, per frame.

        Arguments
        ---------
        ali : array-like of int
            Transition-ids, one per frame.
        context : str
            Prefixed to error messages.

        Returns
        -------
        numpy.ndarray
            int32 phone ids, one per frame.

        Example
        -------
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
        >>> tm.ali_to_phones([1, 2, 7, 8]).tolist()
        [1, 1, 2, 2]
        """
        return self.tid2phone[self._check_tids(ali, context)].astype(np.int32)

    @classmethod
    def monophone(cls, topology):
        """A monophone model, as Kaldi's monophone tree gives it.

        For each phone (in increasing order) and each of its pdf classes, a
        new pdf id is assigned sequentially (``gmm-init-mono``'s tree).

        Arguments
        ---------
        topology : HmmTopology
            The topology.

        Returns
        -------
        TransitionModel
            The model, with log-probs from the topology.

        Example
        -------
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3]))
        >>> tm.tuples[:4]
        [(1, 0, 0, 0), (1, 1, 1, 1), (1, 2, 2, 2), (2, 0, 3, 3)]
        """
        tuples = []
        offset = 0
        for phone in topology.phones:
            for hmm_state, state in enumerate(
                topology.topology_for_phone(phone)
            ):
                if state.forward_pdf_class != NO_PDF:
                    tuples.append(
                        (
                            phone,
                            hmm_state,
                            offset + state.forward_pdf_class,
                            offset + state.self_loop_pdf_class,
                        )
                    )
            offset += topology.num_pdf_classes(phone)
        return cls(topology, sorted(tuples))

    def __eq__(self, other):
        if not isinstance(other, TransitionModel):
            return NotImplemented
        return (
            self.topology == other.topology
            and self.tuples == other.tuples
            and np.array_equal(self.log_probs, other.log_probs)
        )

    def __repr__(self):
        return (
            f"TransitionModel(phones={self.num_phones}, pdfs={self.num_pdfs}, "
            f"transition_ids={self.num_transition_ids}, "
            f"transition_states={self.num_transition_states})"
        )

    def _write(self, w, binary):
        """TransitionModel::Write."""
        is_hmm = self.is_hmm
        w.token("<TransitionModel>")
        w.newline()
        _write_topology(self.topology, w, binary)
        w.token("<Triples>" if is_hmm else "<Tuples>")
        w.int(len(self.tuples))
        w.newline()
        for phone, hmm_state, fwd, loop in self.tuples:
            w.int(phone)
            w.int(hmm_state)
            w.int(fwd)
            if not is_hmm:
                w.int(loop)
            w.newline()
        w.token("</Triples>" if is_hmm else "</Tuples>")
        w.newline()
        w.token("<LogProbs>")
        w.newline()
        w.float_vector(self.log_probs)
        w.token("</LogProbs>")
        w.newline()
        w.token("</TransitionModel>")
        w.newline()

    def to_text(self, precision=6):
        """Kaldi's text form (what ``str()`` of Kaldi's C++ object gives).

        Arguments
        ---------
        precision : int
            Significant digits of floats: 6 is C++'s default (as in
            ``str(kaldi_hmm_gmm.TransitionModel)``); Kaldi's command-line
            tools (``gmm-copy --binary=false``) write with 7.

        Returns
        -------
        str
            The text.

        Example
        -------
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1], 1))
        >>> print(tm.to_text().split("</Topology> ")[1])
        <BLANKLINE>
        <Triples> 1
        1 0 0
        </Triples>
        <LogProbs>
         [ 0 -0.287682 -1.38629 ]
        </LogProbs>
        </TransitionModel>
        <BLANKLINE>
        """
        out = []
        self._write(_TextWriter(out, precision), binary=False)
        return "".join(out)

    def to_bytes(self, binary=True, precision=6):
        """The model as Kaldi writes it to a file.

        Arguments
        ---------
        binary : bool
            Binary form (starting with ``\\0B``) or text form.
        precision : int
            Text form only: significant digits of floats.

        Returns
        -------
        bytes
            The file content.

        Example
        -------
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1]))
        >>> tm.to_bytes()[:20]
        b'\\x00B<TransitionModel> '
        """
        if not binary:
            return self.to_text(precision).encode("ascii")
        out = [b"\0B"]
        self._write(_BinaryWriter(out), binary=True)
        return b"".join(out)

    def write(self, path, binary=False, precision=6):
        """Writes the model to a file (atomically), as Kaldi does.

        Arguments
        ---------
        path : str or os.PathLike
            The output file.
        binary : bool
            Binary form (``\\0B`` header) instead of text.
        precision : int
            Text form only: significant digits (6 = ``str()`` of Kaldi's
            C++ object; 7 = Kaldi's command-line tools).

        Example
        -------
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
        >>> path = getfixture("tmpdir") / "final.mdl"
        >>> tm.write(path, binary=True)
        >>> TransitionModel.read(path) == tm
        True
        """
        data = self.to_bytes(binary=binary, precision=precision)
        with open_atomic(path, "wb") as f:
            f.write(data)

    @classmethod
    def read(cls, path):
        """Reads the ``<TransitionModel>`` at the start of a Kaldi model file.

        Works on ``final.mdl`` of GMM and nnet3 systems (text or binary) and
        on bare transition-model files; whatever follows
        ``</TransitionModel>`` (GMMs, the neural network) is not read.

        Arguments
        ---------
        path : str or os.PathLike
            The model file.

        Returns
        -------
        TransitionModel
            The model; its ``source`` attribute holds ``path``.

        Example
        -------
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
        >>> path = getfixture("tmpdir") / "final.mdl"
        >>> with open(path, "wb") as f:
        ...     _ = f.write(tm.to_bytes(binary=False) + b"<DIMENSION> 13 ...")
        >>> TransitionModel.read(path).num_pdfs
        6
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path}: Kaldi model file (final.mdl / transition model) "
                "not found"
            )
        with open(path, "rb") as f:
            head = f.read(2)
            try:
                if head == b"\0B":
                    tm = _read_model(_BinaryTokens(f, path), binary=True)
                else:
                    f.seek(0)
                    tm = _read_model(_read_text_tokens(f, path), binary=False)
            except ValueError as err:
                message = str(err)
                if not message.startswith(path):
                    message = f"{path}: {message}"
                raise ValueError(message) from None
        tm.source = path
        return tm


def _read_text_tokens(f, path):
    """Reads text up to ``</TransitionModel>`` and tokenizes it."""
    data = b""
    searched = 0
    while True:
        chunk = f.read(_CHUNK)
        data += chunk
        if not searched and data.split(None, 1)[:1] not in (
            [],
            [b"<TransitionModel>"],
        ):
            first = data.split(None, 1)[0][:40].decode(errors="replace")
            raise ValueError(
                f"{path}: expected <TransitionModel> at the start, got "
                f"{first!r} (not a Kaldi GMM/nnet3 final.mdl?)"
            )
        end = data.find(_TEXT_END, max(0, searched - len(_TEXT_END)))
        if end >= 0:
            data = data[: end + len(_TEXT_END)]
            break
        searched = len(data)
        if not chunk:
            raise ValueError(
                f"{path}: no </TransitionModel> found (truncated or not a "
                "Kaldi model file)"
            )
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError(
            f"{path}: non-ASCII bytes in a text model (corrupt file?)"
        ) from None
    return _TextTokens(text.split(), path)


def _read_model(tokens, binary):
    """TransitionModel::Read."""
    first = tokens.token()
    if first != "<TransitionModel>":
        raise ValueError(
            f"{tokens.name}: expected <TransitionModel> at the start, got "
            f"{first[:40]!r} (not a Kaldi GMM/nnet3 final.mdl?)"
        )
    topology = _read_topology(tokens, binary)
    kind = tokens.token()
    if kind not in ("<Triples>", "<Tuples>"):
        raise ValueError(
            f"{tokens.name}: expected <Triples> or <Tuples>, got {kind!r}"
        )
    count = tokens.int()
    if not 0 <= count < 100_000_000:
        raise ValueError(f"{tokens.name}: bad number of tuples {count}")
    tuples = []
    for _ in range(count):
        phone, hmm_state, fwd = tokens.int(), tokens.int(), tokens.int()
        loop = tokens.int() if kind == "<Tuples>" else fwd
        tuples.append((phone, hmm_state, fwd, loop))
    end = tokens.token()
    if end not in ("</Triples>", "</Tuples>"):
        raise ValueError(
            f"{tokens.name}: expected </Triples> or </Tuples>, got {end!r}"
        )
    tokens.expect("<LogProbs>")
    log_probs = tokens.float_vector()
    tokens.expect("</LogProbs>")
    tokens.expect("</TransitionModel>")
    return TransitionModel(topology, tuples, log_probs)
