"""Integer-vector tables (archives.py) and alignment directories."""

import gzip
import os
import shutil
import struct

import kaldiio
import numpy as np
import pytest

from sb_rectifier.kaldi.alignments import (
    load_alignment_dir,
    load_pdf_alignments,
)
from sb_rectifier.kaldi.archives import read_int_vectors, write_int_vectors
from sb_rectifier.kaldi.hmm_topology import HmmTopology
from sb_rectifier.kaldi.transition_model import TransitionModel

ITEMS = [("u1", [5, 5, 7]), ("u2", []), ("u3", [-2, 2147483647])]


def _kaldi_binary(items):
    """Kaldi's binary int-vector archive, built by hand from the format."""
    out = b""
    for key, values in items:
        out += key.encode() + b" \0B\x04" + struct.pack("<i", len(values))
        for v in values:
            out += b"\x04" + struct.pack("<i", v)
    return out


def _as_lists(pairs):
    return [(k, v.tolist()) for k, v in pairs]


def test_binary_write_is_kaldi_format(tmp_path):
    path = tmp_path / "a.ark"
    assert write_int_vectors(f"ark:{path}", ITEMS) == 3
    assert path.read_bytes() == _kaldi_binary(ITEMS)
    assert _as_lists(read_int_vectors(str(path))) == ITEMS


def test_text_write_is_kaldi_format(tmp_path):
    path = tmp_path / "a.txt"
    write_int_vectors(f"ark,t:{path}", ITEMS)
    # BasicVectorHolder: each element followed by a space, then newline.
    assert path.read_text() == "u1 5 5 7 \nu2 \nu3 -2 2147483647 \n"
    for spec in (str(path), f"ark:{path}", f"ark,t:{path}"):
        pairs = list(read_int_vectors(spec))
        assert _as_lists(pairs) == ITEMS
        assert all(v.dtype == np.int32 for _, v in pairs)


def test_reads_text_variants(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("a 1 2 3\nb [ 4 5 ]\nc\nd [ ]\ne 6 \n")
    got = _as_lists(read_int_vectors(str(path)))
    assert got == [
        ("a", [1, 2, 3]),
        ("b", [4, 5]),
        ("c", []),
        ("d", []),
        ("e", [6]),
    ]


def test_reads_gzip_and_mixed_binary_text(tmp_path):
    path = tmp_path / "ali.1.gz"
    data = _kaldi_binary(ITEMS[:1]) + b"t1 8 9 \n" + _kaldi_binary(ITEMS[2:])
    path.write_bytes(gzip.compress(data))
    assert _as_lists(read_int_vectors(str(path))) == [
        ITEMS[0],
        ("t1", [8, 9]),
        ITEMS[2],
    ]


@pytest.mark.skipif(shutil.which("gunzip") is None, reason="needs gunzip")
def test_reads_pipe_rspecifier(tmp_path):
    path = tmp_path / "ali.1.gz"
    write_int_vectors(str(path), ITEMS)
    assert gzip.decompress(path.read_bytes()) == _kaldi_binary(ITEMS)
    got = _as_lists(read_int_vectors(f"ark:gunzip -c {path}|"))
    assert got == ITEMS
    with pytest.raises(OSError, match="exit status"):
        list(
            read_int_vectors(
                f"ark:gunzip -c {tmp_path}/missing.gz 2>/dev/null|"
            )
        )


@pytest.mark.parametrize("text", [False, True])
def test_ark_scp_write_and_read(tmp_path, text):
    opts = "ark,t,scp" if text else "ark,scp"
    ark, scp = tmp_path / "p.ark", tmp_path / "p.scp"
    write_int_vectors(f"{opts}:{ark},{scp}", ITEMS)
    lines = scp.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["u1", "u2", "u3"]
    assert all(line.split()[1].startswith(f"{ark}:") for line in lines)
    assert _as_lists(read_int_vectors(f"scp:{scp}")) == ITEMS
    if not text:  # kaldiio's own scp reader agrees with the offsets.
        loaded = kaldiio.load_scp(str(scp))
        assert loaded["u3"].tolist() == [-2, 2147483647]
    assert sorted(os.listdir(tmp_path)) == ["p.ark", "p.scp"]


def test_write_to_stdout(capsysbinary):
    write_int_vectors("ark:-", ITEMS[:1])
    assert capsysbinary.readouterr().out == _kaldi_binary(ITEMS[:1])


def test_write_is_atomic(tmp_path):
    path = tmp_path / "out.ark"
    write_int_vectors(f"ark:{path}", ITEMS)
    before = path.read_bytes()

    def items():
        yield "ok", [1]
        yield "bad", [1.5]

    with pytest.raises(ValueError, match="utterance 'bad'"):
        write_int_vectors(f"ark,scp:{path},{tmp_path}/out.scp", items())
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["out.ark"]
    with pytest.raises(ValueError, match="invalid utterance id 'a b'"):
        write_int_vectors(str(tmp_path / "x.gz"), [("a b", [1])])
    assert sorted(os.listdir(tmp_path)) == ["out.ark"]


def test_bad_archives_name_file_and_utterance(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("u1 1 2\nu2 3 x 4\n")
    with pytest.raises(ValueError, match=r"bad\.txt: utterance 'u2': .*'x'"):
        list(read_int_vectors(str(path)))
    path.write_text("u1 1 2\nu2 3 4294967296\n")
    with pytest.raises(ValueError, match=r"utterance 'u2': .*fit int32"):
        list(read_int_vectors(str(path)))
    mat = tmp_path / "mat.ark"
    kaldiio.save_ark(str(mat), {"m1": np.zeros((2, 2), np.float32)})
    with pytest.raises(ValueError, match=r"mat\.ark.*utterance 'm1'.*float32"):
        list(read_int_vectors(f"ark:{mat}"))
    cut = tmp_path / "cut.ark"
    cut.write_bytes(_kaldi_binary(ITEMS)[:-3])
    with pytest.raises(ValueError, match=r"cut\.ark.*utterance 'u3'"):
        list(read_int_vectors(str(cut)))
    with pytest.raises(FileNotFoundError, match="missing.ark"):
        list(read_int_vectors(f"ark:{tmp_path}/missing.ark"))


def _model(tmp_path):
    tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    tm.write(tmp_path / "final.mdl", binary=True)
    return tm


def test_load_alignment_dir_maps_and_orders(tmp_path):
    tm = _model(tmp_path)
    # tids 1..12: pdf = (tid - 1) // 2 for this topology.
    write_int_vectors(str(tmp_path / "ali.10.gz"), [("c", [11, 12])])
    write_int_vectors(str(tmp_path / "ali.2.gz"), [("b", [3, 4, 6])])
    write_int_vectors(str(tmp_path / "ali.1.gz"), [("a", [1, 2])], text=True)
    ali = load_alignment_dir(tmp_path)
    assert list(ali) == ["a", "b", "c"]  # job 2 before job 10
    assert {k: v.tolist() for k, v in ali.items()} == {
        "a": [0, 0],
        "b": [1, 1, 2],
        "c": [5, 5],
    }
    assert all(v.dtype == np.int32 for v in ali.values())
    # An explicit model (object or path) gives the same result.
    same = load_alignment_dir(tmp_path, model=tm)
    assert {k: v.tolist() for k, v in same.items()} == {
        k: v.tolist() for k, v in ali.items()
    }


def test_load_alignment_dir_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="alignment directory"):
        load_alignment_dir(tmp_path / "nope")
    write_int_vectors(str(tmp_path / "ali.1.gz"), [("a", [1, 2])])
    with pytest.raises(FileNotFoundError, match="final.mdl"):
        load_alignment_dir(tmp_path)
    _model(tmp_path)
    write_int_vectors(str(tmp_path / "ali.2.gz"), [("b", [1, 99])])
    with pytest.raises(ValueError) as err:
        load_alignment_dir(tmp_path)
    assert "ali.2.gz: utterance 'b': transition-id 99" in str(err.value)
    assert "out of range 1..12" in str(err.value)
    write_int_vectors(str(tmp_path / "ali.2.gz"), [("a", [1])])
    with pytest.raises(ValueError) as err:
        load_alignment_dir(tmp_path)
    message = str(err.value)
    assert "utterance 'a'" in message
    assert "ali.1.gz" in message and "ali.2.gz" in message
    write_int_vectors(str(tmp_path / "ali.2.gz"), [("b", [1])])
    (tmp_path / "num_jobs").write_text("3\n")
    with pytest.raises(ValueError, match=r"missing ali\.3\.gz"):
        load_alignment_dir(tmp_path)


def test_pdf_sources_and_precedence(tmp_path):
    _model(tmp_path)
    write_int_vectors(str(tmp_path / "pdf.1.gz"), [("a", [0, 5])])
    assert load_alignment_dir(tmp_path)["a"].tolist() == [0, 5]
    write_int_vectors(str(tmp_path / "ali.1.gz"), [("a", [1, 12])])
    assert load_alignment_dir(tmp_path)["a"].tolist() == [0, 5]  # from tids
    write_int_vectors(str(tmp_path / "ali.1.gz"), [("a", [3, 12])])
    assert load_alignment_dir(tmp_path)["a"].tolist() == [1, 5]
    assert load_alignment_dir(tmp_path, pdf=True)["a"].tolist() == [0, 5]
    write_int_vectors(str(tmp_path / "pdf.1.gz"), [("a", [0, 6])])
    with pytest.raises(
        ValueError, match=r"pdf\.1\.gz: utterance 'a': pdf id 6"
    ):
        load_alignment_dir(tmp_path, pdf=True)

    scp_dir = tmp_path / "scp"
    scp_dir.mkdir()
    write_int_vectors(
        f"ark,scp:{scp_dir}/pdf.ark,{scp_dir}/ali_pdf.scp",
        [("x", [2, 2]), ("y", [3])],
    )
    got = load_alignment_dir(scp_dir)
    assert {k: v.tolist() for k, v in got.items()} == {"x": [2, 2], "y": [3]}
    (scp_dir / "ali_pdf.scp").unlink()
    with pytest.raises(FileNotFoundError, match="pdf.scp"):
        load_alignment_dir(scp_dir)


def test_load_pdf_alignments(tmp_path):
    path = tmp_path / "pdf.txt"
    path.write_text("u1 0 1 \nu2 4 \n")
    got = load_pdf_alignments(f"ark,t:{path}")
    assert {k: v.tolist() for k, v in got.items()} == {"u1": [0, 1], "u2": [4]}
    with pytest.raises(ValueError, match="pdf id 4 out of range 0..3"):
        load_pdf_alignments(str(path), num_pdfs=4)
    path.write_text("u1 0 1 \nu1 4 \n")
    with pytest.raises(ValueError, match="utterance 'u1' appears twice"):
        load_pdf_alignments(str(path))
