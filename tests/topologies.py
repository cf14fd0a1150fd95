"""Kaldi HMM topologies shared by the decoding tests."""


def kaldi_topology(phones, silence, one_state):
    """Kaldi's standard topology (utils/gen_topo.pl) plus an odd phone.

    3-state left-to-right ``phones``; a 5-state ``silence`` whose middle
    states are fully connected; and ``one_state``, a 1-state phone with
    separate forward / self-loop pdf classes.
    """
    regular = " ".join(str(p) for p in phones)
    return f"""<Topology>
<TopologyEntry> <ForPhones> {regular} </ForPhones>
<State> 0 <ForwardPdfClass> 0 <SelfLoopPdfClass> 0
  <Transition> 0 0.75 <Transition> 1 0.25 </State>
<State> 1 <ForwardPdfClass> 1 <SelfLoopPdfClass> 1
  <Transition> 1 0.75 <Transition> 2 0.25 </State>
<State> 2 <ForwardPdfClass> 2 <SelfLoopPdfClass> 2
  <Transition> 2 0.75 <Transition> 3 0.25 </State>
<State> 3 </State>
</TopologyEntry>
<TopologyEntry> <ForPhones> {silence} </ForPhones>
<State> 0 <ForwardPdfClass> 0 <SelfLoopPdfClass> 0 <Transition> 0 0.25
  <Transition> 1 0.25 <Transition> 2 0.25 <Transition> 3 0.25 </State>
<State> 1 <ForwardPdfClass> 1 <SelfLoopPdfClass> 1 <Transition> 1 0.25
  <Transition> 2 0.25 <Transition> 3 0.25 <Transition> 4 0.25 </State>
<State> 2 <ForwardPdfClass> 2 <SelfLoopPdfClass> 2 <Transition> 1 0.25
  <Transition> 2 0.25 <Transition> 3 0.25 <Transition> 4 0.25 </State>
<State> 3 <ForwardPdfClass> 3 <SelfLoopPdfClass> 3 <Transition> 1 0.25
  <Transition> 2 0.25 <Transition> 3 0.25 <Transition> 4 0.25 </State>
<State> 4 <ForwardPdfClass> 4 <SelfLoopPdfClass> 4
  <Transition> 4 0.75 <Transition> 5 0.25 </State>
<State> 5 </State>
</TopologyEntry>
<TopologyEntry> <ForPhones> {one_state} </ForPhones>
<State> 0 <ForwardPdfClass> 0 <SelfLoopPdfClass> 1
  <Transition> 0 0.5 <Transition> 1 0.5 </State>
<State> 1 </State>
</TopologyEntry>
</Topology>
"""
