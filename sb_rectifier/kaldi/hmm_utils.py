"""HMM transducers from a transition model (Kaldi's ``hmm-utils``).

:func:`make_h` builds the H of a decoding graph HCLG (see
:mod:`sb_rectifier.decoding.hclg`) from a :class:`.TransitionModel`,
through its public accessors, as Kaldi's ``GetHTransducer`` does for a
monophone model:

* each phone's HMM follows the phone's own topology (any Kaldi topology,
  not only the 3-state left-to-right one); arcs carry transition-ids and
  the phone is emitted on the entry arc;
* HMM self-loops are part of H (Kaldi adds them after determinisation
  with ``add-self-loops``; here they are included from the start, which
  makes the graph slightly larger but keeps Kaldi's non-reordered
  topology: a state's self-loops come before its forward transition, as
  in :meth:`.TransitionModel.alignment_from_durations`);
* weights follow Kaldi's ``--transition-scale`` and ``--self-loop-scale``
  (defaults 1.0 and 0.1, as ``mkgraph.sh``).

Authors
 * sb_rectifier developers 2026
"""

import math

import kaldifst as kf

from sb_rectifier.kaldi.hmm_topology import NO_PDF

__all__ = ["make_h"]


def _phone_arcs(model, phone, transition_scale, self_loop_scale):
    """``(from, to, tid, cost)`` of one phone's HMM; states are topology
    indices, the last one (the final state) being the exit."""
    entry = model.topology.topology_for_phone(phone)
    arcs = []
    for index, hmm_state in enumerate(entry[:-1]):
        if hmm_state.forward_pdf_class == NO_PDF:
            for dest, prob in hmm_state.transitions:
                cost = -transition_scale * math.log(prob)
                arcs.append((index, dest, 0, cost))
            continue
        found = model.transition_states_of(phone, index)
        if len(found) != 1:
            raise ValueError(
                f"make_h: phone {phone}, HMM state {index} has "
                f"{len(found)} transition states in the model; only "
                "monophone models (one per phone and state) are supported"
            )
        tstate = found[0]
        loop_tid = model.self_loop_of(tstate)
        non_loop = model.non_self_loop_log_prob(tstate)
        if non_loop == -math.inf:
            raise ValueError(
                f"make_h: self-loop transition-id {loop_tid} has probability 1"
            )
        for trans_index, (dest, _prob) in enumerate(hmm_state.transitions):
            tid = model.pair_to_transition_id(tstate, trans_index)
            log_prob = model.transition_log_prob(tid)
            if tid == loop_tid:
                cost = -self_loop_scale * log_prob
            else:
                cost = -(
                    transition_scale * (log_prob - non_loop)
                    + self_loop_scale * non_loop
                )
            arcs.append((index, dest, tid, cost))
    return len(entry) - 1, arcs


def make_h(
    model, disambig_phones=(), transition_scale=1.0, self_loop_scale=0.1
):
    """The HMM transducer H: transition-ids in, phones out.

    One start (and final) state; for every phone, an ``<eps>:phone`` arc
    enters a copy of the phone's HMM whose arcs are its transition-ids
    (self-loops included); arcs into the HMM's final state return to the
    start. A non-emitting, non-final HMM state contributes epsilon arcs
    (rare in Kaldi topologies, but legal). Weights are Kaldi's: a
    self-loop costs ``-self_loop_scale * log p(loop)``, any other
    transition ``-(transition_scale * log(p / (1 - p(loop))) +
    self_loop_scale * log(1 - p(loop)))``, with the model's trained
    log-probabilities.

    Arguments
    ---------
    model : TransitionModel
        A monophone transition model (one transition state per phone and
        HMM state, i.e. C is the identity).
    disambig_phones : sequence of int
        Phone-side disambiguation symbol ids; the ``k``-th gets a
        self-loop ``(num_transition_ids + 1 + k):disambig_phones[k]`` on
        the start state.
    transition_scale : float
        Scale of the non-self-loop transition log-probabilities.
    self_loop_scale : float
        Scale of the self-loop log-probabilities.

    Returns
    -------
    kaldifst.StdVectorFst
        H.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> from sb_rectifier.kaldi.transition_model import TransitionModel
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> H = make_h(tm, disambig_phones=[3])
    >>> H.num_states, sum(H.num_arcs(s) for s in range(H.num_states))
    (7, 15)
    >>> sorted(a.ilabel for a in kf.ArcIterator(H, H.start))
    [0, 0, 13]
    """
    H = kf.StdVectorFst()
    start = H.add_state()
    H.start = start
    H.set_final(start, 0.0)
    for phone in model.phones:
        final_index, arcs = _phone_arcs(
            model, phone, transition_scale, self_loop_scale
        )
        states = [H.add_state() for _ in range(final_index)]

        def target(dest, states=states, final_index=final_index):
            return start if dest == final_index else states[dest]

        H.add_arc(start, kf.StdArc(0, phone, 0.0, target(0)))
        for src, dest, tid, cost in arcs:
            H.add_arc(states[src], kf.StdArc(tid, 0, cost, target(dest)))
    first_disambig = model.num_transition_ids + 1
    for k, phone in enumerate(disambig_phones):
        H.add_arc(start, kf.StdArc(first_disambig + k, int(phone), 0.0, start))
    return H
