"""Kaldi transition model (the start of ``final.mdl``), without Kaldi.

A Kaldi ``final.mdl`` (GMM or nnet3) starts with a ``<TransitionModel>``
object: the HMM topology (:mod:`.hmm_topology`), the list of
transition-state tuples ``(phone, hmm_state, forward_pdf, self_loop_pdf)``
and the transition log-probabilities. Alignments (``ali.*.gz``) are
sequences of transition-ids (1-based) that this object maps to pdf ids (the
DNN output targets) and phones.

No Python package reads this object from a file (``kaldiio`` does not know
it; ``kaldi_hmm_gmm`` can build one but not read one), so the reader and
writer are hand-written here (on top of :mod:`.basic_io`), following
Kaldi's ``transition-model.cc``: text and binary forms, old
(``<Triples>``) and new (``<Tuples>``, chain topologies with a separate
self-loop pdf class) forms. The derived tables reproduce
``TransitionModel::ComputeDerived()`` exactly; the test-suite checks them
against Kaldi's own C++ (``kaldi_hmm_gmm``).

Authors
 * sb_rectifier developers 2026
"""

import itertools
import math
import os

import numpy as np

from sb_rectifier.files import atomic_write
from sb_rectifier.kaldi.basic_io import (
    BinaryTokenReader,
    BinaryWriter,
    TextWriter,
    read_text_object,
)
from sb_rectifier.kaldi.hmm_topology import (
    NO_PDF,
    read_topology,
    write_topology,
)


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
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
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
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
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
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
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
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
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

    def transition_states_of(self, phone, hmm_state):
        """The transition states (1-based) of one HMM state of a phone.

        A monophone model has exactly one per emitting (phone, state); a
        context-dependent one has one per pdf pair that the tree gives it.

        Arguments
        ---------
        phone : int
            Phone id.
        hmm_state : int
            HMM state index within the phone's topology entry.

        Returns
        -------
        tuple of int
            The transition states, in tuple order (empty if none).

        Example
        -------
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
        >>> tm.transition_states_of(2, 1), tm.transition_states_of(3, 0)
        ((5,), ())
        """
        lookup = getattr(self, "_states_of", None)
        if lookup is None:
            lookup = {}
            for tstate, (p, s, _fwd, _loop) in enumerate(self.tuples, 1):
                lookup.setdefault((p, s), []).append(tstate)
            lookup = {key: tuple(value) for key, value in lookup.items()}
            self._states_of = lookup
        return lookup.get((int(phone), int(hmm_state)), ())

    def transition_log_prob(self, tid):
        """The log-probability of a transition-id (Kaldi's
        ``GetTransitionLogProb``).

        Arguments
        ---------
        tid : int
            Transition-id, ``1..num_transition_ids``.

        Returns
        -------
        float
            Its (trained) log-probability.

        Example
        -------
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1]))
        >>> round(math.exp(tm.transition_log_prob(1)), 4)
        0.75
        """
        if not 1 <= tid <= self.num_transition_ids:
            raise ValueError(
                f"TransitionModel: transition-id {tid} out of range "
                f"1..{self.num_transition_ids}"
            )
        return float(self.log_probs[tid])

    def non_self_loop_log_prob(self, tstate):
        """``log(1 - p(self-loop))`` of a transition state (Kaldi's
        ``GetNonSelfLoopLogProb``).

        Arguments
        ---------
        tstate : int
            Transition state (1-based).

        Returns
        -------
        float
            0.0 for a state without self-loop; ``-inf`` for a self-loop of
            probability 1.

        Example
        -------
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1]))
        >>> round(math.exp(tm.non_self_loop_log_prob(1)), 4)
        0.25
        """
        loop = self.self_loop_of(tstate)
        if not loop:
            return 0.0
        p_loop = math.exp(self.transition_log_prob(loop))
        return math.log1p(-p_loop) if p_loop < 1.0 else -math.inf

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

    def left_to_right_arcs(self):
        """Self-loop and forward transition-ids of every (phone, state).

        For left-to-right topologies (each emitting state ``s`` loops and
        moves to ``s + 1``), which is what an aligner needs to turn state
        durations into a Kaldi alignment.

        Returns
        -------
        dict
            ``(phone, hmm_state) -> (self_loop_tid, forward_tid)``.

        Example
        -------
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1]))
        >>> tm.left_to_right_arcs()[1, 0]
        (1, 2)
        """
        arcs = {}
        for tstate, (phone, state, _fwd, _loop) in enumerate(self.tuples, 1):
            first = self.pair_to_transition_id(tstate, 0)
            end = int(self.tstate2first_tid[tstate + 1])
            forward = [
                t for t in range(first, end) if self.tid2dest[t] == state + 1
            ]
            if not forward:
                raise ValueError(
                    f"phone {phone} state {state}: no transition to state "
                    f"{state + 1} (not a left-to-right topology)"
                )
            arcs[phone, state] = (self.self_loop_of(tstate), forward[0])
        return arcs

    def alignment_from_durations(self, segments, arcs=None):
        """Transition-ids of a phone sequence with per-state durations.

        Each state of duration ``d`` takes its self-loop ``d - 1`` times,
        then its forward transition, as Kaldi's aligner does.

        Arguments
        ---------
        segments : iterable of tuple
            ``(phone, [frames of state 0, frames of state 1, ...])``.
        arcs : dict, optional
            :meth:`left_to_right_arcs` (computed if not given).

        Returns
        -------
        numpy.ndarray
            int32 transition-ids, one per frame.

        Example
        -------
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1]))
        >>> ali = tm.alignment_from_durations([(1, [2, 1, 3])])
        >>> ali.tolist(), tm.ali_to_pdf(ali).tolist()
        ([1, 2, 4, 5, 5, 6], [0, 0, 1, 2, 2, 2])
        """
        arcs = self.left_to_right_arcs() if arcs is None else arcs
        tids = []
        for phone, durations in segments:
            for state, frames in enumerate(durations):
                if frames < 1:
                    raise ValueError(
                        f"phone {phone} state {state}: {frames} frames (need >= 1)"
                    )
                loop, forward = arcs[phone, state]
                tids += [loop] * (frames - 1) + [forward]
        return np.asarray(tids, dtype=np.int32)

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
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
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
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
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
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
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

    def pdf_mapping_difference(self, other):
        """How this model's transition-id -> pdf mapping differs from another's.

        Two models that agree on the topology and on the (phone, HMM
        state, pdfs) of every transition state read the same alignments as
        the same pdfs, whatever their transition probabilities.

        Arguments
        ---------
        other : TransitionModel
            The model to compare with.

        Returns
        -------
        str or None
            None if the mappings are the same, else the first difference.

        Example
        -------
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
        >>> a = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
        >>> b = TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3]))
        >>> print(a.pdf_mapping_difference(a))
        None
        >>> a.pdf_mapping_difference(b)
        '6 pdfs here, 9 there'
        """
        if self.num_pdfs != other.num_pdfs:
            return f"{self.num_pdfs} pdfs here, {other.num_pdfs} there"
        if self.topology != other.topology:
            return "the HMM topologies differ"
        for tstate, (mine, theirs) in enumerate(
            zip(self.tuples, other.tuples, strict=False), 1
        ):
            if mine != theirs:
                return (
                    f"transition state {tstate} is (phone, HMM state, "
                    f"forward pdf, self-loop pdf) = {tuple(mine)} here, "
                    f"{tuple(theirs)} there"
                )
        if len(self.tuples) != len(other.tuples):
            return (
                f"{len(self.tuples)} transition states here, "
                f"{len(other.tuples)} there"
            )
        return None

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
        write_topology(self.topology, w, binary)
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
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
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
        self._write(TextWriter(out, precision), binary=False)
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
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1]))
        >>> tm.to_bytes()[:20]
        b'\\x00B<TransitionModel> '
        """
        if not binary:
            return self.to_text(precision).encode("ascii")
        out = [b"\0B"]
        self._write(BinaryWriter(out), binary=True)
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
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
        >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
        >>> path = getfixture("tmpdir") / "final.mdl"
        >>> tm.write(path, binary=True)
        >>> TransitionModel.read(path) == tm
        True
        """
        data = self.to_bytes(binary=binary, precision=precision)
        with atomic_write(path, "wb") as f:
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
        >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
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
                    tm = _read_model(BinaryTokenReader(f, path), binary=True)
                else:
                    f.seek(0)
                    tokens = read_text_object(
                        f,
                        path,
                        "<TransitionModel>",
                        "</TransitionModel>",
                        hint=" (not a Kaldi GMM/nnet3 final.mdl?)",
                    )
                    tm = _read_model(tokens, binary=False)
            except ValueError as err:
                message = str(err)
                if not message.startswith(path):
                    message = f"{path}: {message}"
                raise ValueError(message) from None
        tm.source = path
        return tm


def _read_model(tokens, binary):
    """TransitionModel::Read."""
    first = tokens.token()
    if first != "<TransitionModel>":
        raise ValueError(
            f"{tokens.name}: expected <TransitionModel> at the start, got "
            f"{first[:40]!r} (not a Kaldi GMM/nnet3 final.mdl?)"
        )
    topology = read_topology(tokens, binary)
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
