"""``sb-rectifier make-graph``: Kaldi's ``utils/mkgraph.sh`` without Kaldi.

``sb-rectifier make-graph LANG_DIR MODEL_DIR GRAPH_DIR`` compiles HCLG
for the model of MODEL_DIR (``final.mdl`` and, for a context-dependent
model, ``tree``; without ``tree`` a monophone model) and the lang
directory (``phones.txt``, ``words.txt``, ``L_disambig.fst`` with
``phones/disambig.int`` or ``lexicon.txt``, ``G.fst``), and writes Kaldi's
graph directory (:func:`~sb_rectifier.decoding.context_graph.make_context_graph`).
G may instead come from an ARPA file (``--arpa``) or be a loop over the
words (``--word-loop``). The graph decodes with ``sb-rectifier decode``,
``train.py --graph_dir`` and khg's GMM decoders.

Authors
 * sb_rectifier developers 2026
"""

import sys


def register(subparsers):
    """Adds the ``make-graph`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(
    ...     ["make-graph", "data/lang", "exp/tri1", "exp/tri1/graph"]
    ... )
    >>> args.self_loop_scale, args.word_loop, args.arpa
    (0.1, False, None)
    """
    parser = subparsers.add_parser(
        "make-graph",
        help="compile HCLG for a (context-dependent) model (as mkgraph.sh)",
        description="Compiles the decoding graph HCLG of a Kaldi lang "
        "directory and model directory (final.mdl, tree) as Kaldi's "
        "utils/mkgraph.sh, and writes a Kaldi graph directory (HCLG.fst, "
        "words.txt, phones.txt, phones/, disambig_tid.int, num_pdfs, "
        "make_graph.json). Nothing is done if GRAPH_DIR is up to date.",
    )
    parser.add_argument(
        "lang_dir",
        metavar="LANG_DIR",
        help="phones.txt, words.txt, L_disambig.fst + phones/disambig.int "
        "(or lexicon.txt), G.fst",
    )
    parser.add_argument(
        "model_dir",
        metavar="MODEL_DIR",
        help="final.mdl and tree (no tree: a monophone model)",
    )
    parser.add_argument("graph_dir", metavar="GRAPH_DIR", help="output")
    grammar = parser.add_mutually_exclusive_group()
    grammar.add_argument(
        "--arpa", metavar="LM.arpa", help="G from this ARPA file (not G.fst)"
    )
    grammar.add_argument(
        "--word-loop",
        action="store_true",
        help="G is a loop over all pronounced words but the OOV word of "
        "LANG_DIR/oov.txt, equal probabilities",
    )
    parser.add_argument("--transition-scale", type=float, default=1.0)
    parser.add_argument("--self-loop-scale", type=float, default=0.1)
    parser.add_argument(
        "--silence-phone",
        default="SIL",
        help="optional silence of an L made from lexicon.txt "
        "(default: SIL; 'none' for no optional silence)",
    )
    parser.add_argument(
        "--silence-prob",
        type=float,
        default=0.5,
        help="its probability (L made from lexicon.txt)",
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if up to date"
    )
    parser.set_defaults(func=run)


def run(args):
    """Builds (or keeps) the graph directory and prints a summary.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 (errors raise ``OSError`` / ``ValueError``, exit status 1).
    """
    from sb_rectifier.decoding.context_graph import make_context_graph

    silence = (
        None if args.silence_phone.lower() == "none" else args.silence_phone
    )
    info = make_context_graph(
        args.lang_dir,
        args.model_dir,
        args.graph_dir,
        arpa=args.arpa,
        word_loop=args.word_loop,
        silence_phone=silence,
        silence_prob=args.silence_prob,
        transition_scale=args.transition_scale,
        self_loop_scale=args.self_loop_scale,
        force=args.force,
    )
    states, arcs = info["sizes"]["HCLG"]
    what = "up to date" if info["skipped"] else "written"
    print(
        f"LOG (sb-rectifier make-graph) {args.graph_dir}: {what}; HCLG "
        f"{states} states, {arcs} arcs (context width "
        f"{info['context_width']}, {info['num_pdfs']} pdfs), built in "
        f"{info['seconds']['total']:.2f} s",
        file=sys.stderr,
    )
    return 0
