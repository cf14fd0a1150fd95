"""Kaldi HMM topology (``lang/topo``), read and written without Kaldi.

The ``<Topology>`` object lists, for groups of phones, the HMM states with
their pdf classes and transitions; it is written alone (``lang/topo``, text
form) and at the start of every ``<TransitionModel>`` (text or binary).
This follows Kaldi's ``hmm-topology.cc``: normal HMM topologies
(``<PdfClass>``) and chain topologies with a separate self-loop pdf class
(``<ForwardPdfClass>`` / ``<SelfLoopPdfClass>``).

Authors
 * sb_rectifier developers 2026
"""

import os
from dataclasses import dataclass, field

from sb_rectifier.kaldi.basic_io import (
    TextTokenReader,
    TextWriter,
    to_float32,
)

NO_PDF = -1  # Kaldi's kNoPdf: a non-emitting state.


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
                trans = [(int(d), to_float32(p)) for d, p in state.transitions]
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
        tokens = TextTokenReader(text.split(), "topology text")
        topo = read_topology(tokens, binary=False)
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
        write_topology(self, TextWriter(out, precision), binary=False)
        return "".join(out)


def read_topology(tokens, binary):
    """Reads a topology as Kaldi's ``HmmTopology::Read`` does.

    Arguments
    ---------
    tokens : TextTokenReader or BinaryTokenReader
        The input, at the ``<Topology>`` token (from
        :mod:`sb_rectifier.kaldi.basic_io`).
    binary : bool
        Whether ``tokens`` reads the binary form.

    Returns
    -------
    HmmTopology
        The topology; ``tokens`` is left after ``</Topology>``.

    Example
    -------
    >>> text = HmmTopology.left_to_right([1, 2]).to_text() + "<Rest>"
    >>> tokens = TextTokenReader(text.split(), "topo")
    >>> read_topology(tokens, binary=False).phones
    [1, 2]
    >>> tokens.token()
    '<Rest>'
    """
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


def write_topology(topology, writer, binary):
    """Writes a topology as Kaldi's ``HmmTopology::Write`` does.

    Arguments
    ---------
    topology : HmmTopology
        The topology.
    writer : TextWriter or BinaryWriter
        Where to write (from :mod:`sb_rectifier.kaldi.basic_io`).
    binary : bool
        Whether ``writer`` writes the binary form.

    Example
    -------
    >>> import io
    >>> from sb_rectifier.kaldi.basic_io import (
    ...     BinaryTokenReader,
    ...     BinaryWriter,
    ... )
    >>> topo = HmmTopology.left_to_right([1, 2])
    >>> out = []
    >>> write_topology(topo, BinaryWriter(out), binary=True)
    >>> f = io.BytesIO(b"".join(out))
    >>> read_topology(BinaryTokenReader(f, "topo"), binary=True) == topo
    True
    """
    is_hmm = topology.is_hmm
    writer.token("<Topology>")
    if not binary:
        writer.newline()
        for i, phones in enumerate(topology.entry_phones()):
            writer.token("<TopologyEntry>")
            writer.newline()
            writer.token("<ForPhones>")
            writer.newline()
            writer.raw("".join(f"{p} " for p in phones))
            writer.newline()
            writer.token("</ForPhones>")
            writer.newline()
            for j, state in enumerate(topology.entries[i]):
                writer.token("<State>")
                writer.int(j)
                if state.forward_pdf_class != NO_PDF:
                    if is_hmm:
                        writer.token("<PdfClass>")
                        writer.int(state.forward_pdf_class)
                    else:
                        writer.token("<ForwardPdfClass>")
                        writer.int(state.forward_pdf_class)
                        writer.token("<SelfLoopPdfClass>")
                        writer.int(state.self_loop_pdf_class)
                for dest, prob in state.transitions:
                    writer.token("<Transition>")
                    writer.int(dest)
                    writer.float(prob)
                writer.token("</State>")
                writer.newline()
            writer.token("</TopologyEntry>")
            writer.newline()
    else:
        writer.int_vector(topology.phones)
        writer.int_vector(topology.phone2idx)
        if not is_hmm:
            writer.int(-1)
        writer.int(len(topology.entries))
        for entry in topology.entries:
            writer.int(len(entry))
            for state in entry:
                writer.int(state.forward_pdf_class)
                if not is_hmm:
                    writer.int(state.self_loop_pdf_class)
                writer.int(len(state.transitions))
                for dest, prob in state.transitions:
                    writer.int(dest)
                    writer.float(prob)
    writer.token("</Topology>")
    writer.newline()
