"""A deterministic writer for Compound File Binary files (MS-CFB), version 3.

``vbaProject.bin`` is a compound file: a little FAT file system of storages
(directories) and streams inside one file. This writer produces the whole file
in one pass from a mapping of stream paths to contents:

* 512-byte sectors (major version 3, MS-CFB 2.2);
* streams shorter than the 4096-byte cutoff live in the mini stream, in 64-byte
  mini sectors chained by the mini FAT (MS-CFB 2.5, 2.6);
* up to 109 FAT sectors, all listed in the header's DIFAT array (MS-CFB 2.5),
  which covers files of up to about 7 MB;
* the children of each storage form a red-black tree ordered as MS-CFB 2.6.4
  prescribes;
* timestamps, state bits and storage CLSIDs are zero, so equal input gives
  byte-identical output.

Layout, in sector order: FAT sectors, directory, mini FAT, mini stream, then
the regular streams in directory order.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

__all__ = ["write_compound_file", "cfb_name_key"]

_SECTOR = 512  # sector size of a version 3 file (MS-CFB 2.2)
_MINI_SECTOR = 64  # mini sector size (MS-CFB 2.2, MiniSectorShift 6)
_MINI_CUTOFF = 4096  # streams shorter than this go to the mini stream (MS-CFB 2.2)
_HEADER_DIFAT = 109  # FAT sector locations that fit in the header (MS-CFB 2.2)
_ENTRIES_PER_SECTOR = _SECTOR // 4  # FAT / mini FAT entries per sector
_DIR_ENTRY = 128  # bytes per directory entry (MS-CFB 2.6)

# Special sector numbers (MS-CFB 2.1).
_FATSECT = 0xFFFFFFFD
_ENDOFCHAIN = 0xFFFFFFFE
_FREESECT = 0xFFFFFFFF
_NOSTREAM = 0xFFFFFFFF

# Directory entry object types and colours (MS-CFB 2.6.1).
_TYPE_STORAGE = 1
_TYPE_STREAM = 2
_TYPE_ROOT = 5
_RED = 0
_BLACK = 1

_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_FORBIDDEN_NAME_CHARS = set("/\\:!")


def cfb_name_key(name: str) -> tuple[int, tuple[int, ...]]:
    """Sort key of a directory entry name among its siblings (MS-CFB 2.6.4).

    Shorter names sort first; names of equal length compare by the code points
    of their upper-cased UTF-16 code units. Only simple (one-to-one) case
    mappings apply, so e.g. "ß" stays itself.
    """
    units = name.encode("utf-16-le")
    upper = []
    for (code,) in struct.iter_unpack("<H", units):
        char = chr(code)
        mapped = char.upper()
        upper.append(ord(mapped) if len(mapped) == 1 and ord(mapped) <= 0xFFFF else code)
    return len(upper), tuple(upper)


@dataclass
class _Entry:
    """One directory entry while the file is being laid out."""

    name: str
    kind: int
    data: bytes = b""
    children: dict[tuple[int, tuple[int, ...]], _Entry] = field(default_factory=dict)  # by cfb_name_key
    sid: int = 0
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    colour: int = _BLACK
    start: int = _ENDOFCHAIN


def _check_name(name: str, path: str) -> None:
    """Reject names MS-CFB 2.6.1 does not allow (empty, > 31 UTF-16 units, "/\\:!")."""
    if not name:
        raise ValueError(f"empty name component in compound file path {path!r}")
    if len(name.encode("utf-16-le")) // 2 > 31:
        raise ValueError(f"compound file name {name!r} in {path!r} is longer than 31 characters")
    if _FORBIDDEN_NAME_CHARS & set(name):
        raise ValueError(f"compound file name {name!r} in {path!r} contains one of / \\ : !")


def _build_tree(streams: dict[str, bytes]) -> _Entry:
    """Turn slash-separated stream paths into a storage/stream hierarchy."""
    root = _Entry("Root Entry", _TYPE_ROOT)
    for path, data in streams.items():
        parts = path.split("/")
        node = root
        for depth, part in enumerate(parts):
            _check_name(part, path)
            last = depth == len(parts) - 1
            # Keyed by cfb_name_key: names compare case-insensitively (MS-CFB
            # 2.6.4), so "Dir" and "DIR" are the same entry.
            key = cfb_name_key(part)
            existing = node.children.get(key)
            if existing is None:
                if last:
                    existing = _Entry(part, _TYPE_STREAM, bytes(data))
                else:
                    # A storage's starting sector must be zero (MS-CFB 2.6.3).
                    existing = _Entry(part, _TYPE_STORAGE, start=0)
                node.children[key] = existing
            elif last or existing.kind != _TYPE_STORAGE:
                raise ValueError(f"compound file path {path!r} clashes with another stream or storage")
            node = existing
    return root


def _link_siblings(entries: list[_Entry]) -> int:
    """Make ``entries`` (sorted by cfb_name_key) a red-black tree; return its root SID.

    The tree is built by recursive midpoint split, so every level but the
    deepest is full. Colouring the deepest level red (unless it is the root)
    and all others black gives every root-to-leaf path the same number of black
    nodes, and no red node has a red child: a valid red-black tree for any
    number of entries (MS-CFB 2.6.4).
    """
    if not entries:
        return _NOSTREAM
    deepest = len(entries).bit_length() - 1  # depth of the last level of a midpoint tree

    def build(low: int, high: int, depth: int) -> int:
        if low >= high:
            return _NOSTREAM
        middle = (low + high) // 2
        entry = entries[middle]
        entry.left = build(low, middle, depth + 1)
        entry.right = build(middle + 1, high, depth + 1)
        entry.colour = _RED if depth == deepest and depth > 0 else _BLACK
        return entry.sid

    return build(0, len(entries), 0)


def _number_entries(root: _Entry) -> list[_Entry]:
    """Assign stream IDs depth-first in sibling order (root is SID 0) and link the trees."""
    order: list[_Entry] = []

    def visit(entry: _Entry) -> None:
        entry.sid = len(order)
        order.append(entry)
        for key in sorted(entry.children):
            visit(entry.children[key])

    visit(root)
    for entry in order:
        if entry.kind != _TYPE_STREAM:
            entry.child = _link_siblings([entry.children[key] for key in sorted(entry.children)])
    return order


def _chain(table: list[int], first: int, count: int) -> None:
    """Record ``count`` consecutive sectors from ``first`` as one chain in a FAT."""
    for index in range(first, first + count - 1):
        table[index] = index + 1
    table[first + count - 1] = _ENDOFCHAIN


def _pad(data: bytes, size: int) -> bytes:
    """Pad ``data`` with zeros to a multiple of ``size``."""
    return data + bytes(-len(data) % size)


def _directory_entry(entry: _Entry, clsid: bytes, size: int) -> bytes:
    """Serialise one 128-byte directory entry (MS-CFB 2.6.1)."""
    name = entry.name.encode("utf-16-le") + b"\0\0"
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name,
        len(name),
        entry.kind,
        entry.colour,
        entry.left,
        entry.right,
        entry.child,
        clsid,
        0,  # state bits
        0,  # creation time: zero for reproducible output
        0,  # modified time
        entry.start,
        size,
    )


def write_compound_file(streams: dict[str, bytes], root_clsid: bytes = b"\0" * 16) -> bytes:
    """Return a version 3 compound file holding ``streams`` (MS-CFB 2.1 - 2.6).

    Keys are slash-separated paths ("PROJECT", "VBA/dir"); storages are
    created implicitly. ``root_clsid`` is the root storage's CLSID. Raises
    ``ValueError`` on invalid names, clashing paths, or a file that would need
    more than 109 FAT sectors (DIFAT sectors are not written).
    """
    if len(root_clsid) != 16:
        raise ValueError("root_clsid must be 16 bytes")
    root = _build_tree(streams)
    entries = _number_entries(root)
    stream_entries = [e for e in entries if e.kind == _TYPE_STREAM]
    small = [e for e in stream_entries if 0 < len(e.data) < _MINI_CUTOFF]
    large = [e for e in stream_entries if len(e.data) >= _MINI_CUTOFF]

    # Mini stream: each small stream in consecutive 64-byte mini sectors.
    mini_fat: list[int] = []
    mini_stream = bytearray()
    for entry in small:
        count = math.ceil(len(entry.data) / _MINI_SECTOR)
        entry.start = len(mini_fat)
        mini_fat.extend([_FREESECT] * count)
        _chain(mini_fat, entry.start, count)
        mini_stream += _pad(entry.data, _MINI_SECTOR)
    # Unused mini FAT entries are free, not zero (zero would chain to sector 0).
    mini_fat.extend([_FREESECT] * (-len(mini_fat) % _ENTRIES_PER_SECTOR))
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)

    directory = len(entries) * _DIR_ENTRY
    dir_sectors = math.ceil(directory / _SECTOR)
    minifat_sectors = len(mini_fat_bytes) // _SECTOR
    ministream_sectors = math.ceil(len(mini_stream) / _SECTOR)
    large_sectors = [math.ceil(len(e.data) / _SECTOR) for e in large]
    data_sectors = dir_sectors + minifat_sectors + ministream_sectors + sum(large_sectors)
    # The FAT must also describe its own sectors.
    fat_sectors = 1
    while fat_sectors * _ENTRIES_PER_SECTOR < data_sectors + fat_sectors:
        fat_sectors += 1
    if fat_sectors > _HEADER_DIFAT:
        raise ValueError(
            f"compound file needs {fat_sectors} FAT sectors; only {_HEADER_DIFAT} (about 7 MB) are supported"
        )

    fat = [_FREESECT] * (fat_sectors * _ENTRIES_PER_SECTOR)
    fat[:fat_sectors] = [_FATSECT] * fat_sectors
    next_sector = fat_sectors
    dir_start = next_sector
    _chain(fat, dir_start, dir_sectors)
    next_sector += dir_sectors
    minifat_start = next_sector if minifat_sectors else _ENDOFCHAIN
    if minifat_sectors:
        _chain(fat, minifat_start, minifat_sectors)
        next_sector += minifat_sectors
    root.start = next_sector if ministream_sectors else _ENDOFCHAIN
    if ministream_sectors:
        _chain(fat, root.start, ministream_sectors)
        next_sector += ministream_sectors
    for entry, count in zip(large, large_sectors):
        entry.start = next_sector
        _chain(fat, next_sector, count)
        next_sector += count

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        _SIGNATURE,
        b"\0" * 16,  # header CLSID: must be zero
        0x003E,  # minor version
        0x0003,  # major version 3: 512-byte sectors
        0xFFFE,  # byte order: little-endian
        9,  # sector shift: 2**9 = 512
        6,  # mini sector shift: 2**6 = 64
        b"\0" * 6,  # reserved
        0,  # number of directory sectors: must be zero in version 3
        fat_sectors,
        dir_start,
        0,  # transaction signature
        _MINI_CUTOFF,
        minifat_start,
        minifat_sectors,
        _ENDOFCHAIN,  # first DIFAT sector: none
        0,  # number of DIFAT sectors
    )
    difat = list(range(fat_sectors)) + [_FREESECT] * (_HEADER_DIFAT - fat_sectors)
    header += struct.pack(f"<{_HEADER_DIFAT}I", *difat)

    dir_bytes = bytearray()
    for entry in entries:
        if entry.kind == _TYPE_STREAM:
            dir_bytes += _directory_entry(entry, b"\0" * 16, len(entry.data))
        elif entry.kind == _TYPE_ROOT:
            dir_bytes += _directory_entry(entry, root_clsid, len(mini_stream))
        else:
            dir_bytes += _directory_entry(entry, b"\0" * 16, 0)
    # Unused entries filling the last directory sector (MS-CFB 2.6.1): empty
    # name, no siblings or child, all else zero.
    unused = struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM, b"", 0, 0, 0, 0, 0)
    dir_bytes += unused * (dir_sectors * _SECTOR // _DIR_ENTRY - len(entries))

    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    out += dir_bytes
    out += mini_fat_bytes
    out += _pad(bytes(mini_stream), _SECTOR)
    for entry in large:
        out += _pad(entry.data, _SECTOR)
    return bytes(out)
