"""Word times of 1-best decodings and the CTM (sb_rectifier.decoding.ctm)."""

import json
import shutil

import numpy as np
import pytest

from sb_rectifier.decoding.ctm import (
    align_words,
    convert_ctm,
    ctm_lines,
    ctm_writer,
    read_word_boundary,
    split_to_phones,
    write_ctm,
)
from sb_rectifier.decoding.decoder import DecodingResult
from sb_rectifier.kaldi.hmm_topology import HmmTopology
from sb_rectifier.kaldi.transition_model import TransitionModel

# Phones of a position-dependent lang: SIL, then a_B a_I a_E a_S b_B ...
CLASSES = {1: "nonword"}
NAMES = {"SIL": 1}
for _i, _p in enumerate(["a", "b"]):
    for _j, (_suffix, _kind) in enumerate(
        [("B", "begin"), ("I", "internal"), ("E", "end"), ("S", "singleton")]
    ):
        NAMES[f"{_p}_{_suffix}"] = 2 + 4 * _i + _j
        CLASSES[2 + 4 * _i + _j] = _kind


@pytest.fixture(scope="module")
def model():
    return TransitionModel.monophone(
        HmmTopology.left_to_right(range(1, 10), num_states=2)
    )


def _ali(model, segments, reorder=False):
    """Transition-ids of ``(phone name, [frames per state])``; reordered:
    each state's forward transition first, then its self-loops."""
    arcs = model.left_to_right_arcs()
    tids = []
    for name, durations in segments:
        for state, frames in enumerate(durations):
            loop, forward = arcs[NAMES[name], state]
            if reorder:
                tids += [forward] + [loop] * (frames - 1)
            else:
                tids += [loop] * (frames - 1) + [forward]
    return tids


# SIL; a_B a_I a_E ("w1", 3 phones); SIL; b_S ("w2"); a_S ("w3", no
# silence before it); a_B b_E ("w4"); SIL.
SEGMENTS = [
    ("SIL", [3, 2]),
    ("a_B", [1, 2]),
    ("a_I", [2, 1]),
    ("b_E", [1, 1]),
    ("SIL", [1, 1]),
    ("b_S", [2, 3]),
    ("a_S", [1, 1]),
    ("a_B", [1, 1]),
    ("b_E", [3, 1]),
    ("SIL", [2, 2]),
]
EXPECTED = [("w1", 5, 8), ("w2", 15, 5), ("w3", 20, 2), ("w4", 22, 6)]


@pytest.mark.parametrize("reorder", [False, True])
def test_word_classes_silence_and_reordered_self_loops(model, reorder):
    ali = _ali(model, SEGMENTS, reorder)
    phones = split_to_phones(ali, model)
    assert [p for p, _, _ in phones] == [NAMES[n] for n, _ in SEGMENTS]
    assert [n for _, _, n in phones] == [sum(d) for _, d in SEGMENTS]
    words = ["w1", "w2", "w3", "w4"]
    assert align_words(ali, words, model, CLASSES) == EXPECTED
    assert ctm_lines("u1", EXPECTED[:2]) == [
        "u1 1 0.05 0.08 w1",
        "u1 1 0.15 0.05 w2",
    ]


def test_word_label_anywhere_and_no_words(model):
    ali = _ali(model, [("SIL", [2, 2])])
    assert align_words(ali, [], model, CLASSES) == []
    # Word ids work as well as strings; order is all that matters.
    ali = _ali(model, [("a_S", [1, 1]), ("b_B", [1, 1]), ("a_E", [1, 2])])
    assert align_words(ali, [7, 3], model, CLASSES) == [(7, 0, 2), (3, 2, 5)]


def test_inconsistent_paths_name_the_utterance(model):
    ali = _ali(model, [("a_B", [1, 1]), ("SIL", [1, 1]), ("a_E", [1, 1])])
    with pytest.raises(ValueError, match="utterance 'u9': nonword phone 1"):
        align_words(ali, ["w"], model, CLASSES, "u9")
    ali = _ali(model, [("SIL", [1, 1]), ("a_I", [1, 1])])
    with pytest.raises(ValueError, match="internal phone 3 at frame 2 is not"):
        align_words(ali, ["w"], model, CLASSES, "u9")
    ali = _ali(model, [("a_S", [1, 1])])
    with pytest.raises(ValueError, match="2 words on the best path but 1"):
        align_words(ali, ["w", "v"], model, CLASSES, "u9")
    missing = {k: v for k, v in CLASSES.items() if k != NAMES["a_S"]}
    with pytest.raises(
        ValueError, match=r"wb.int: phone 5 \(in utterance 'u9', frame 0\)"
    ):
        align_words(ali, ["w"], model, missing, "u9", "wb.int")
    # Half a phone: not a complete path.
    with pytest.raises(ValueError, match="u9': the alignment ends inside"):
        align_words(ali[:1], ["w"], model, CLASSES, "u9")


def test_partial_path_is_forced_out(model):
    ali = _ali(model, [("SIL", [1, 1]), ("a_B", [1, 1]), ("a_I", [2, 1])])
    with pytest.raises(ValueError, match="begun at frame 2 has no end"):
        align_words(ali, ["w", "v"], model, CLASSES, "u1")
    got = align_words(ali, ["w", "v"], model, CLASSES, "u1", force_out=True)
    assert got == [("w", 2, 5), ("v", 7, 0)]


def test_read_word_boundary_errors(tmp_path):
    path = tmp_path / "word_boundary.int"
    path.write_text("1 nonword\n2 begin\n2 end\n")
    with pytest.raises(ValueError, match="line 3: phone 2 is listed twice"):
        read_word_boundary(path)
    path.write_text("1 nonword\nSIL nonword\n")
    with pytest.raises(ValueError, match="line 2: expected '<phone-id>"):
        read_word_boundary(path)
    with pytest.raises(FileNotFoundError, match="nothing.int"):
        read_word_boundary(tmp_path / "nothing.int")


def test_segments_and_reco2file_and_channel(model, tmp_path):
    lines = ["u2 1 0.00 0.31 hi", "u1 1 1.27 0.03 you 0.91"]
    segments = {"u1": ("r1", 10.5, 12.0), "u2": ("r2", 0.98, 3.0)}
    reco = {"r1": ("file1", "A"), "r2": ("file1", "B")}
    assert convert_ctm(lines, segments, reco) == [
        "file1 B 0.98 0.31 hi",
        "file1 A 11.77 0.03 you 0.91",
    ]
    assert convert_ctm(lines, segments) == [
        "r2 1 0.98 0.31 hi",
        "r1 1 11.77 0.03 you 0.91",
    ]
    with pytest.raises(ValueError, match="segs: no utterance 'u2'"):
        convert_ctm(lines, {"u1": segments["u1"]}, reco, "segs")
    with pytest.raises(ValueError, match="r2c: no recording 'r2'"):
        convert_ctm(lines, segments, {"r1": reco["r1"]}, "segs", "r2c")

    # write_ctm with a data dir: files read, lines named.
    ali = np.array(_ali(model, [("SIL", [2, 2]), ("a_S", [1, 2])]), np.int32)
    results = {"u1": DecodingResult([4], ali, 0.0, 0.0, True)}
    data = tmp_path / "data"
    data.mkdir()
    out = tmp_path / "ctm"
    assert write_ctm(out, results, {4: "hi"}, model, CLASSES, data) == 1
    assert out.read_text() == "u1 1 0.04 0.03 hi\n"
    (data / "segments").write_text("u1 rec 1.00 2.00\n")
    write_ctm(out, results, {4: "hi"}, model, CLASSES, data)
    assert out.read_text() == "rec 1 1.04 0.03 hi\n"
    (data / "reco2file_and_channel").write_text("rec sw01 A\n")
    write_ctm(out, results, {4: "hi"}, model, CLASSES, data)
    assert out.read_text() == "sw01 A 1.04 0.03 hi\n"
    (data / "segments").write_text("u1 rec 1.00\n")
    with pytest.raises(ValueError, match="segments: line 1: expected"):
        write_ctm(out, results, {4: "hi"}, model, CLASSES, data)


# ------------------------------------------- embedded corpus, real decoding


def _position_dependent(corpus, out):
    """A position-dependent lang dir and model for the corpus: each phone
    p becomes p_B p_I p_E p_S, all four sharing p's pdfs (as Kaldi's
    ``roots.txt`` shares them), so the corpus's log-likelihoods fit."""
    from sb_rectifier.decoding.lang import read_symbols

    lang = corpus / "data" / "lang"
    orig = TransitionModel.read(corpus / "exp" / "ali_train" / "final.mdl")
    pdfs = {(p, s): (f, loop) for p, s, f, loop in orig.tuples}
    phones = read_symbols(lang / "phones.txt")
    names, tuples, classes, base = {"<eps>": 0}, [], {}, {}
    for name, pid in sorted(phones.items(), key=lambda x: x[1]):
        if pid == 0:
            continue
        kinds = {"": "nonword"} if name == "SIL" else {
            "_B": "begin", "_I": "internal", "_E": "end", "_S": "singleton"
        }  # fmt: skip
        for suffix, kind in kinds.items():
            new = len(names)
            names[name + suffix] = new
            classes[new] = kind
            base[new] = pid
    num_states = len(orig.topology.topology_for_phone(1)) - 1
    for new, pid in base.items():
        for s in range(num_states):
            tuples.append((new, s, *pdfs[pid, s]))
    model = TransitionModel(
        HmmTopology.left_to_right(sorted(base), num_states), sorted(tuples)
    )
    (out / "phones").mkdir(parents=True)
    (out / "phones.txt").write_text(
        "".join(f"{n} {i}\n" for n, i in names.items())
    )
    (out / "phones" / "word_boundary.int").write_text(
        "".join(f"{i} {k}\n" for i, k in classes.items())
    )
    rows = []
    for line in (lang / "lexicon.txt").read_text().splitlines():
        word, *pron = line.split()
        if len(pron) == 1:
            pron = [pron[0] + "_S"]
        else:
            middle = [p + "_I" for p in pron[1:-1]]
            pron = [f"{pron[0]}_B", *middle, f"{pron[-1]}_E"]
        rows.append(" ".join([word, *pron]))
    (out / "lexicon.txt").write_text("\n".join(rows) + "\n")
    for name in ("words.txt", "G.fst"):
        shutil.copy(lang / name, out / name)
    model.write(out / "final.mdl")
    return model


def _exact_word_times(corpus, split, lexicon):
    """Word times (frames) from the corpus's phone_alignment.txt: the
    spoken phones grouped by the words' pronunciations."""
    phones = {}
    path = corpus / "exp" / f"ali_{split}" / "phone_alignment.txt"
    for line in path.read_text().splitlines():
        utt, phone, start, n, _ = line.split()
        if phone != "SIL":
            phones.setdefault(utt, []).append((phone, int(start), int(n)))
    texts = {}
    for line in (corpus / "data" / split / "text").read_text().splitlines():
        utt, *words = line.split()
        texts[utt] = words

    def split_words(words, spoken):
        if not words:
            return [] if not spoken else None
        for pron in lexicon[words[0]]:
            if tuple(p for p, _, _ in spoken[: len(pron)]) == pron:
                rest = split_words(words[1:], spoken[len(pron) :])
                if rest is not None:
                    first, last = spoken[0], spoken[len(pron) - 1]
                    span = (words[0], first[1], last[1] + last[2] - first[1])
                    return [span, *rest]
        return None

    return {u: split_words(w, phones.get(u, [])) for u, w in texts.items()}


def test_ctm_of_a_decoded_corpus(tmp_path):
    import kaldiio

    from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus
    from sb_rectifier.decoding import ParallelDecoder, make_graph, read_symbols
    from sb_rectifier.decoding.tuning import tune_and_decode
    from sb_rectifier.kaldi import load_alignment_dir

    corpus = tmp_path / "corpus"
    info = make_corpus(corpus, CorpusConfig(hours=0.01, seed=3), progress=False)
    lang = tmp_path / "lang_pd"
    model = _position_dependent(corpus, lang)
    make_graph(lang, model, out_dir=lang)
    lexicon = {}
    for line in (
        (corpus / "data" / "lang" / "lexicon.txt").read_text().split("\n")
    ):
        if line:
            word, *pron = line.split()
            lexicon.setdefault(word, []).append(tuple(pron))
    id2word = {i: w for w, i in read_symbols(lang / "words.txt").items()}

    # Oracle log-likelihoods of a few utterances per split; the test data
    # dir gets segments (utterances inside two recordings).
    missing = set(info["words_without_pronunciation"])
    scps, refs, exact, offsets, lengths = {}, {}, {}, {}, {}
    orig = TransitionModel.read(corpus / "exp" / "ali_train" / "final.mdl")
    for split in ("dev", "test"):
        exact[split] = _exact_word_times(corpus, split, lexicon)
        pdfs = load_alignment_dir(str(corpus / "exp" / f"ali_{split}"), orig)
        mats = {}
        for utt in sorted(pdfs)[:4]:
            ali = pdfs[utt]
            if missing & {w for w, _, _ in exact[split][utt] or []}:
                continue
            mat = np.full((len(ali), model.num_pdfs), -20.0, np.float32)
            mat[np.arange(len(ali)), ali] = 0.0
            mats[utt] = mat
            lengths[utt] = len(ali)
        refs[split] = {u: [w for w, _, _ in exact[split][u]] for u in mats}
        kaldiio.save_ark(
            str(tmp_path / f"{split}.ark"),
            mats,
            scp=str(tmp_path / f"{split}.scp"),
        )
        scps[split] = str(tmp_path / f"{split}.scp")
    data = {"dev": corpus / "data" / "dev", "test": tmp_path / "test_data"}
    data["test"].mkdir()
    segments = []
    for i, utt in enumerate(refs["test"]):
        reco = f"rec{i % 2}"
        offsets[utt] = (reco, 100.0 * i + 0.5)
        segments.append(f"{utt} {reco} {100.0 * i + 0.5:.2f} {100.0 * i + 90}")
    (data["test"] / "segments").write_text("\n".join(segments) + "\n")
    (data["test"] / "reco2file_and_channel").write_text(
        "rec0 callA A\nrec1 callB B\n"
    )

    writer = ctm_writer(str(lang), str(lang / "final.mdl"), id2word, data)
    out = tmp_path / "decode"
    with ParallelDecoder(lang / "HCLG.fst", lang / "final.mdl", 1) as decoder:
        report = tune_and_decode(
            decoder, scps, refs, id2word, str(out), [1.0], [0.0],
            progress=False, ctm_writer=writer,
        )  # fmt: skip
    stored = json.loads((out / "decoding.json").read_text())
    for split in ("dev", "test"):
        assert report[split]["wer"] == 0.0
        assert stored[split]["ctm"] == f"{split}/ctm"
        hyps = {}
        for line in (out / split / "hyp.txt").read_text().splitlines():
            utt, *words = line.split()
            hyps[utt] = words
        rows = [line.split() for line in (out / split / "ctm").read_text()
                .splitlines()]  # fmt: skip
        # Lines in utterance order; each utterance's words as in hyp.txt.
        by_utt, order = {}, list(hyps)
        cursor = 0
        for utt in order:
            n = len(hyps[utt])
            by_utt[utt] = rows[cursor : cursor + n]
            cursor += n
        assert cursor == len(rows) > 0
        for utt, lines in by_utt.items():
            assert [r[4] for r in lines] == hyps[utt]
            begin, file, channel = 0.0, utt, "1"
            if split == "test":
                reco, begin = offsets[utt]
                file, channel = {
                    "rec0": ("callA", "A"),
                    "rec1": ("callB", "B"),
                }[reco]
            assert all(r[0] == file and r[1] == channel for r in lines)
            starts = [float(r[2]) - begin for r in lines]
            ends = [s + float(r[3]) for s, r in zip(starts, lines, strict=True)]
            assert all(float(r[3]) > 0 for r in lines)
            assert starts == sorted(starts)
            assert all(
                e <= s + 1e-6 for e, s in zip(ends, starts[1:], strict=False)
            )
            assert starts[0] >= 0
            truth = exact[split][utt]
            assert ends[-1] <= lengths[utt] * 0.01 + 1e-6
            for (word, start, n), s, e in zip(truth, starts, ends, strict=True):
                assert abs(s - start * 0.01) < 0.015, (utt, word)
                assert abs(e - (start + n) * 0.01) < 0.015, (utt, word)
    # decoded again without word boundaries: no CTM, and no stale one left
    with ParallelDecoder(lang / "HCLG.fst", lang / "final.mdl", 1) as decoder:
        report = tune_and_decode(
            decoder, scps, refs, id2word, str(out), [1.0], [0.0],
            progress=False,
        )  # fmt: skip
    for split in ("dev", "test"):
        assert "ctm" not in report[split]
        assert not (out / split / "ctm").exists()
