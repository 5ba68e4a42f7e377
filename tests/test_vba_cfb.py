"""MS-CFB writer: read back with olefile, check the header and the red-black trees."""

from __future__ import annotations

import random
import struct
import zipfile
from pathlib import Path

import olefile
import pytest

import xlwings
from addin.vba.cfb import cfb_name_key, write_compound_file

RED, BLACK = 0, 1
NOSTREAM = 0xFFFFFFFF


def _open(data: bytes) -> olefile.OleFileIO:
    # DEFECT_INCORRECT: fail on anything olefile considers a format violation.
    return olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)


def _sample_streams() -> dict[str, bytes]:
    rng = random.Random(11)
    streams = {
        "PROJECT": b'ID="{00000000-0000-0000-0000-000000000000}"\r\n',
        "PROJECTwm": b"\0\0",
        "VBA/_VBA_PROJECT": bytes.fromhex("CC61FFFF000100"),
        "VBA/dir": rng.randbytes(1300),
        "VBA/empty": b"",
        "VBA/just_below_cutoff": rng.randbytes(4095),
        "VBA/at_cutoff": rng.randbytes(4096),
        "VBA/big": rng.randbytes(70_000),
        "A/B/C/deep": b"deep",
    }
    for index in range(40):
        streams[f"Many/s{index}"] = rng.randbytes(index * 97)
    return streams


def _check_tree(ole: olefile.OleFileIO, sid: int) -> tuple[int, list[str]]:
    """Validate the red-black tree rooted at ``sid``; return (black height, names in order)."""
    if sid == NOSTREAM:
        return 1, []
    entry = ole.direntries[sid]
    left_height, left_names = _check_tree(ole, entry.sid_left)
    right_height, right_names = _check_tree(ole, entry.sid_right)
    assert left_height == right_height, f"unequal black heights below {entry.name!r}"
    if entry.color == RED:
        for child in (entry.sid_left, entry.sid_right):
            assert child == NOSTREAM or ole.direntries[child].color == BLACK, f"red {entry.name!r} has a red child"
    names = left_names + [entry.name] + right_names
    return left_height + (entry.color == BLACK), names


def _check_all_trees(ole: olefile.OleFileIO) -> int:
    """Check every storage's child tree (MS-CFB 2.6.4); return the number of storages checked."""
    checked = 0
    for entry in ole.direntries:
        if entry is None or entry.entry_type not in (olefile.STGTY_ROOT, olefile.STGTY_STORAGE):
            continue
        if entry.sid_child == NOSTREAM:
            continue
        root = ole.direntries[entry.sid_child]
        assert root.color == BLACK, f"tree root {root.name!r} must be black"
        _, names = _check_tree(ole, entry.sid_child)
        keys = [cfb_name_key(name) for name in names]
        assert keys == sorted(keys) and len(set(keys)) == len(keys), "siblings out of MS-CFB order"
        assert sorted(names) == sorted(kid.name for kid in entry.kids)
        checked += 1
    return checked


def test_streams_read_back_with_olefile() -> None:
    streams = _sample_streams()
    data = write_compound_file(streams)
    assert len(data) % 512 == 0
    ole = _open(data)
    for path, content in streams.items():
        assert ole.get_type(path) == olefile.STGTY_STREAM
        assert ole.get_size(path) == len(content)
        assert ole.openstream(path).read() == content
    for storage in ["VBA", "A", "A/B", "A/B/C", "Many"]:
        assert ole.get_type(storage) == olefile.STGTY_STORAGE
    listed = {"/".join(parts) for parts in ole.listdir(streams=True, storages=False)}
    assert listed == set(streams)
    assert _check_all_trees(ole) == 6  # root, VBA, A, A/B, A/B/C, Many


def test_small_streams_use_the_mini_stream() -> None:
    data = write_compound_file({"small": b"x" * 4095, "large": b"y" * 4096})
    ole = _open(data)
    assert ole.root.size == 4096  # 4095 bytes rounded up to 64-byte mini sectors
    small = ole.direntries[ole._find("small")]
    large = ole.direntries[ole._find("large")]
    assert small.size < ole.minisectorcutoff <= large.size
    assert ole.openstream("small").read() == b"x" * 4095


def test_header_fields() -> None:
    data = write_compound_file({"s": b"abc"}, root_clsid=bytes(range(16)))
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    minor, major, byte_order, sector_shift, mini_shift = struct.unpack_from("<HHHHH", data, 24)
    assert (minor, major, byte_order, sector_shift, mini_shift) == (0x3E, 3, 0xFFFE, 9, 6)
    (directory_sectors,) = struct.unpack_from("<I", data, 40)
    (cutoff,) = struct.unpack_from("<I", data, 56)
    assert directory_sectors == 0 and cutoff == 4096
    ole = _open(data)
    assert ole.root.clsid == olefile.olefile._clsid(bytes(range(16)))
    assert ole.root.createTime == 0 and ole.root.modifyTime == 0


def test_many_streams_and_large_files() -> None:
    rng = random.Random(5)
    streams = {f"S{index:03d}": rng.randbytes(rng.randrange(0, 3000)) for index in range(300)}
    streams.update({f"Deep/Sub{index}/x": b"%d" % index for index in range(30)})
    streams["Huge"] = rng.randbytes(600_000)  # > 128 sectors: several FAT sectors
    data = write_compound_file(streams)
    ole = _open(data)
    assert ole.num_fat_sectors > 1
    assert ole.num_mini_fat_sectors > 1
    for path, content in streams.items():
        assert ole.openstream(path).read() == content
    assert _check_all_trees(ole) == 1 + 1 + 30


@pytest.mark.parametrize("count", list(range(1, 41)) + [63, 64, 65, 127, 128, 200])
def test_sibling_trees_are_valid_red_black_trees(count: int) -> None:
    names = [f"n{index}" for index in range(count)]
    random.Random(count).shuffle(names)
    ole = _open(write_compound_file({f"D/{name}": b"" for name in names}))
    assert _check_all_trees(ole) == 2


def test_tree_check_rejects_an_all_black_list() -> None:
    # The Excel-made reference file links siblings as an all-black list, which
    # is not a red-black tree: the checker above must notice.
    with zipfile.ZipFile(Path(xlwings.__file__).parent / "quickstart_standalone.xlsm") as archive:
        ole = olefile.OleFileIO(archive.read("xl/vbaProject.bin"))
    with pytest.raises(AssertionError, match="black heights"):
        _check_all_trees(ole)


def test_sibling_order_is_length_then_uppercase() -> None:
    names = ["b", "A", "aa", "Ab", "_", "dir", "Z", "Module1", "PROJECTwm", "PROJECT", "ä", "Ä0"]
    ole = _open(write_compound_file({name: b"" for name in names}))
    _check_all_trees(ole)
    assert cfb_name_key("b") > cfb_name_key("A")
    assert cfb_name_key("Z") < cfb_name_key("aa")
    assert cfb_name_key("abc") == cfb_name_key("ABC")


def test_deterministic_and_independent_of_insertion_order() -> None:
    streams = _sample_streams()
    reordered = dict(reversed(list(streams.items())))
    assert write_compound_file(streams) == write_compound_file(streams) == write_compound_file(reordered)


def test_empty_file_has_only_a_root() -> None:
    ole = _open(write_compound_file({}))
    assert ole.listdir(streams=True, storages=True) == []


@pytest.mark.parametrize(
    "streams",
    [
        {"x" * 32: b""},
        {"a:b": b""},
        {"VBA//dir": b""},
        {"A": b"", "A/B": b""},
        {"A/B": b"", "A": b""},
        {"dir": b"", "DIR": b""},
    ],
    ids=["too-long", "forbidden-char", "empty-component", "stream-then-storage", "storage-then-stream", "case"],
)
def test_invalid_paths_are_rejected(streams: dict[str, bytes]) -> None:
    with pytest.raises(ValueError):
        write_compound_file(streams)


def test_more_than_109_fat_sectors_fail_loudly() -> None:
    # 109 FAT sectors map 109 * 128 sectors of 512 bytes (~7.1 MB).
    with pytest.raises(ValueError, match="FAT sectors"):
        write_compound_file({"big": bytes(109 * 128 * 512)})


def test_root_clsid_must_be_16_bytes() -> None:
    with pytest.raises(ValueError):
        write_compound_file({"s": b""}, root_clsid=b"\0")
