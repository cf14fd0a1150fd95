"""Reading and writing const FSTs (sb_rectifier.decoding.fst_io).

kaldifst 1.7.17 writes const FSTs (OpenFst's own writer) but cannot read
them, so read_graph parses OpenFst's const format with NumPy. These tests
write const files by hand, byte by byte, as OpenFst's ``const-fst.h``
lays them out (version 1: states and arcs aligned to 16 bytes; version
2: unaligned), and check what comes back against kaldifst's own graphs.
"""

import struct
import time

import kaldifst as kf
import numpy as np
import pytest

from sb_rectifier.decoding.fst_io import read_graph, write_graph

MAGIC = 2125659606
INF = float("inf")
# 0 -1-> 1 -2-> 2 (final 2.0), 1 -eps-> 0, 2 -3-> 2; state 1 final 0.5.
TEXT = "0 1 1 11 0.25\n1 2 2 12 0\n1 0 0 0 1.5\n2 2 3 13 0.75\n1 0.5\n2 2.0\n"
FINALS = [INF, 0.5, 2.0]
ARCS = [
    [(1, 11, 0.25, 1)],
    [(2, 12, 0.0, 2), (0, 0, 1.5, 0)],
    [(3, 13, 0.75, 2)],
]


def _string(s):
    return struct.pack("<i", len(s)) + s.encode("ascii")


def _header(version, flags, props, start, num_states, num_arcs):
    return (
        struct.pack("<i", MAGIC)
        + _string("const")
        + _string("standard")
        + struct.pack(
            "<iiQqqq", version, flags, props, start, num_states, num_arcs
        )
    )


def _pad(data):
    return data + b"\0" * (-len(data) % 16)


def _const_file(
    finals=FINALS,
    arcs=ARCS,
    version=2,
    flags=0,
    props=0x1,
    start=0,
    order=None,
):
    """OpenFst const FST bytes, by hand (``order``: state order of arcs)."""
    order = list(range(len(finals))) if order is None else order
    pos, flat = {}, []
    for s in order:
        pos[s] = len(flat)
        flat += arcs[s]
    states = b"".join(
        struct.pack(
            "<fIIII",
            finals[s],
            pos[s],
            len(arcs[s]),
            sum(a[0] == 0 for a in arcs[s]),  # input epsilons
            sum(a[1] == 0 for a in arcs[s]),  # output epsilons
        )
        for s in range(len(finals))
    )
    arc_bytes = b"".join(struct.pack("<iifi", *a) for a in flat)
    head = _header(version, flags, props, start, len(finals), len(flat))
    if version == 1 or flags & 4:
        return _pad(_pad(head) + states) + arc_bytes
    return head + states + arc_bytes


@pytest.mark.parametrize(
    "version, flags",
    [(2, 0), (1, 0), (2, 4)],
    ids=["v2-unaligned", "v1-aligned", "v2-aligned-flag"],
)
def test_hand_made_const_file(tmp_path, version, flags):
    path = tmp_path / "HCLG.fst"
    data = _const_file(version=version, flags=flags)
    path.write_bytes(data)
    if version == 1:
        # The header is 65 bytes: the states start at 80, the arcs at 144.
        assert len(data) == 144 + 4 * 16
    expected = kf.compile(TEXT)
    fst = read_graph(path)
    assert isinstance(fst, kf.StdVectorFst)
    assert fst.to_str() == expected.to_str()
    const = read_graph(path, vector=False)
    assert isinstance(const, kf.StdConstFst)
    assert const.to_str() == expected.to_str()


def test_arcs_in_any_state_order(tmp_path):
    # OpenFst writes state 0's arcs first; a const FST need not.
    path = tmp_path / "G.fst"
    path.write_bytes(_const_file(order=[2, 0, 1]))
    assert read_graph(path).to_str() == kf.compile(TEXT).to_str()


def test_openfst_writes_the_hand_made_layout(tmp_path):
    """write_graph(const=True) is the layout read above, byte for byte."""
    path = tmp_path / "HCLG.fst"
    write_graph(kf.compile(TEXT), path, const=True)
    written = path.read_bytes()
    props = struct.unpack_from("<Q", written, 33)[0]
    assert written == _const_file(props=props)
    assert read_graph(path).to_str() == kf.compile(TEXT).to_str()


def test_round_trip_random_graph(tmp_path):
    rng = np.random.default_rng(0)
    lines = [
        f"{s} {rng.integers(0, 300)} {rng.integers(0, 50)} "
        f"{rng.integers(0, 50)} {rng.random():.3f}"
        for s in np.sort(rng.integers(0, 300, 2000))
    ]
    lines += [f"{s} {rng.random():.3f}" for s in range(0, 300, 7)]
    fst = kf.compile("\n".join(lines))
    for const in (True, False):
        path = tmp_path / f"g{int(const)}.fst"
        write_graph(fst, path, const=const)
        assert path.read_bytes()[8:13] == (b"const" if const else b"vecto")
        back = read_graph(path)
        assert isinstance(back, kf.StdVectorFst)
        assert back.to_str() == fst.to_str()
        assert back.start == fst.start
        assert read_graph(path, vector=False).to_str() == fst.to_str()


def test_symbol_tables_carried_over(tmp_path):
    fst = kf.compile(TEXT)
    table = kf.SymbolTable()
    table.add_symbol("<eps>")
    for i in (1, 2, 3):
        table.add_symbol(f"p{i}", i)
    fst.input_symbols = table
    path = tmp_path / "L.fst"
    write_graph(fst, path, const=True)
    back = read_graph(path)
    assert back.to_str() == fst.to_str()
    assert back.input_symbols.find(3) == "p3"
    assert back.output_symbols is None


def test_empty_const_fst(tmp_path):
    path = tmp_path / "empty.fst"
    write_graph(kf.StdVectorFst(), path, const=True)
    assert read_graph(path).num_states == 0


def test_truncated_const_file_is_named(tmp_path):
    data = _const_file()
    for cut, message in [
        (
            len(data) - 5,
            r"truncated const FST: 184 bytes, but its header "
            r"\(3 states, 4 arcs\) needs 189",
        ),
        (80, "truncated const FST"),
        (40, "truncated FST: the file .* ends inside the header"),
    ]:
        path = tmp_path / "HCLG.fst"
        path.write_bytes(data[:cut])
        with pytest.raises(
            ValueError, match=rf"HCLG\.fst: could not read the FST: {message}"
        ):
            read_graph(path)
    aligned = _const_file(version=1)
    path.write_bytes(aligned[:-1])
    with pytest.raises(
        ValueError,
        match=r"HCLG\.fst: could not read the FST: truncated const FST",
    ):
        read_graph(path)


def test_inconsistent_const_file_is_named(tmp_path):
    path = tmp_path / "HCLG.fst"
    path.write_bytes(_const_file() + b"\0")
    with pytest.raises(
        ValueError,
        match=r"HCLG\.fst: could not read the FST: 1 unexpected bytes",
    ):
        read_graph(path)
    bad = [list(a) for a in ARCS]
    bad[2] = [(3, 13, 0.75, 7)]
    path.write_bytes(_const_file(arcs=bad))
    with pytest.raises(
        ValueError,
        match=r"HCLG\.fst: could not read the FST: arc 3 goes to state 7, but the FST",
    ):
        read_graph(path)
    path.write_bytes(_const_file(start=3))
    with pytest.raises(
        ValueError,
        match=r"HCLG\.fst: could not read the FST: start state 3 of 3",
    ):
        read_graph(path)
    path.write_bytes(_const_file(version=3))
    with pytest.raises(
        ValueError,
        match=r"HCLG\.fst: could not read the FST: const FST version 3",
    ):
        read_graph(path)


def test_million_arc_const_graph_reads_fast(tmp_path):
    """1M arcs, 200k states: the const file is built here with NumPy."""
    rng = np.random.default_rng(1)
    num_states, num_arcs = 200_000, 1_000_000
    narcs = np.bincount(
        rng.integers(0, num_states, num_arcs), minlength=num_states
    ).astype("<u4")
    pos = np.zeros(num_states, "<u4")
    np.cumsum(narcs[:-1], out=pos[1:])
    states = np.zeros(num_states, "<f4,<u4,<u4,<u4,<u4")
    finals = np.full(num_states, np.inf, "<f4")
    finals[::1000] = rng.random(num_states // 1000 or 1).astype("<f4")
    states["f0"], states["f1"], states["f2"] = finals, pos, narcs
    arcs = np.zeros(num_arcs, "<i4,<i4,<f4,<i4")
    arcs["f0"] = rng.integers(1, 5000, num_arcs)
    arcs["f1"] = rng.integers(0, 5000, num_arcs)
    arcs["f2"] = rng.random(num_arcs).astype("<f4")
    arcs["f3"] = rng.integers(0, num_states, num_arcs)
    path = tmp_path / "HCLG.fst"
    path.write_bytes(
        _header(2, 0, 0x1, 0, num_states, num_arcs)
        + states.tobytes()
        + arcs.tobytes()
    )
    start = time.perf_counter()
    fst = read_graph(path)
    seconds = time.perf_counter() - start
    assert fst.num_states == num_states
    for s in rng.integers(0, num_states, 200):
        got = [
            (a.ilabel, a.olabel, a.weight.value, a.nextstate)
            for a in kf.ArcIterator(fst, int(s))
        ]
        mine = arcs[pos[s] : pos[s] + narcs[s]]
        assert got == [tuple(a) for a in mine.tolist()]
        assert fst.final(int(s)).value == finals[s]
    # About 0.3 s on one core; generous for a shared machine.
    assert seconds < 5, f"{seconds:.2f} s to read a 1M-arc const FST"
