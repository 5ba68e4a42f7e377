"""MS-OVBA 2.4.1 compression: the run-length/LZ77 scheme of VBA project streams.

The ``dir`` stream and every module stream of a ``vbaProject.bin`` are stored as
a CompressedContainer (MS-OVBA 2.4.1.1.1): a signature byte ``0x01`` followed by
chunks, each encoding up to 4096 bytes of the decompressed buffer.

``compress`` follows the spec's pseudocode (2.4.1.3.6 - 2.4.1.3.19): greedy
longest match within the chunk, copy tokens whose offset/length split depends on
the position in the chunk, a raw chunk when the encoding does not fit. Its output
is a pure function of the input and follows Office's match choice: the spec's
examples (MS-OVBA 3.2) and the small module streams Excel wrote into xlwings'
``quickstart_standalone.xlsm`` come out byte for byte. (On larger modules Excel
sometimes settles for a shorter match than the longest, so its output can be
bigger; both decompress to the same bytes.)
"""

from __future__ import annotations

import struct

__all__ = ["compress", "decompress"]

_CHUNK = 4096  # decompressed bytes per chunk (2.4.1.1.3)
_MAX_CHUNK_BYTES = 4098  # header + data of one CompressedChunk (2.4.1.1.4)
_SIGNATURE = 0x01  # CompressedContainer.SignatureByte (2.4.1.1.1)
_HEADER_SIGNATURE = 0b011 << 12  # CompressedChunkSignature (2.4.1.1.5)
_FLAG_COMPRESSED = 0x8000  # CompressedChunkFlag (2.4.1.1.5)
_RAW_HEADER = _HEADER_SIGNATURE | 0x0FFF  # a raw chunk always declares 4096 data bytes


def _bit_count(difference: int) -> int:
    """Return BitCount of CopyToken Help (2.4.1.3.19.1) for a chunk position.

    ``difference`` is DecompressedCurrent - DecompressedChunkStart (>= 1, since
    the first token of a chunk is always a literal). ceil(log2(d)) is computed
    with integers to avoid floating-point rounding at powers of two.
    """
    return max((difference - 1).bit_length(), 4)


def _common_length(data: bytes, a: int, b: int, end: int) -> int:
    """Length of the common prefix of data[a:end] and data[b:end] (a < b).

    Binary search over slice equality keeps the byte comparisons in C; the
    spec's byte-by-byte loop (2.4.1.3.19.4) would dominate the run time on
    repetitive input.
    """
    low, high = 0, end - b
    while low < high:
        mid = (low + high + 1) // 2
        if data[a : a + mid] == data[b : b + mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _compress_chunk(data: bytes, start: int, out: bytearray) -> None:
    """Append the CompressedChunk for data[start:start+4096] (2.4.1.3.7).

    Token sequences (2.4.1.3.8) are written until the chunk's decompressed
    bytes are consumed; if the encoding would not fit into the 4098 bytes a
    chunk may occupy, the chunk is written raw instead (2.4.1.3.10).
    """
    end = min(start + _CHUNK, len(data))
    encoded = bytearray()
    # Where earlier tokens of this chunk start, keyed by their first three
    # bytes, nearest last. A match shorter than 3 bytes is never used
    # (2.4.1.3.19.4), so only candidates sharing the first three bytes can win.
    # Office only considers token starts (not every earlier position, as the
    # pseudocode does) and keeps the nearest of equally long matches; this
    # reproduces the spec's own example (3.2.2) and the module streams Excel
    # writes byte for byte.
    candidates: dict[bytes, list[int]] = {}
    current = start
    limit = _MAX_CHUNK_BYTES - 2  # data bytes available after the header
    full = False  # the next token did not fit: the chunk must be written raw
    while current < end and not full:
        flag_index = len(encoded)
        encoded.append(0)
        flags = 0
        for bit in range(8):
            if current >= end:
                break
            best_length, best_candidate = 0, 0
            key = data[current : current + 3]
            if len(key) == 3:
                for candidate in reversed(candidates.get(key, ())):
                    # A candidate can only beat the best so far if it also
                    # matches at index best_length; test that byte first.
                    probe = current + best_length
                    if probe < end and data[candidate + best_length] != data[probe]:
                        continue
                    length = _common_length(data, candidate, current, end)
                    if length > best_length:
                        best_length, best_candidate = length, candidate
                        if current + length == end:
                            break  # no farther candidate can be strictly longer
            token_size = 2 if best_length >= 3 else 1
            if len(encoded) + token_size > limit:
                full = True
                break
            if best_length >= 3:
                bit_count = _bit_count(current - start)
                length = min(best_length, (0xFFFF >> bit_count) + 3)
                offset = current - best_candidate
                token = ((offset - 1) << (16 - bit_count)) | (length - 3)
                encoded += struct.pack("<H", token)
                flags |= 1 << bit
            else:
                length = 1
                encoded.append(data[current])
            candidates.setdefault(key, []).append(current)
            current += length
        encoded[flag_index] = flags
    if current < end:
        # 2.4.1.3.10 pads a short raw chunk with zeros up to 4096 bytes, which
        # would append zeros to the decompressed data. Only the last chunk of a
        # buffer can be short, and only incompressible data of 3.6 KB to 4 KB
        # takes this path (never VBA source text): the real bytes are written
        # without padding so that decompression returns exactly the input, as
        # oletools' decompressor and ``decompress`` below read it.
        out += struct.pack("<H", _RAW_HEADER)
        out += data[start:end]
    else:
        out += struct.pack("<H", _HEADER_SIGNATURE | _FLAG_COMPRESSED | (len(encoded) - 1))
        out += encoded


def compress(data: bytes) -> bytes:
    """Compress ``data`` into a CompressedContainer (MS-OVBA 2.4.1.3.6)."""
    out = bytearray([_SIGNATURE])
    for start in range(0, len(data), _CHUNK):
        _compress_chunk(data, start, out)
    return bytes(out)


def decompress(data: bytes) -> bytes:
    """Decompress a CompressedContainer (MS-OVBA 2.4.1.3.1).

    Raises ``ValueError`` on a wrong container or chunk signature, a truncated
    chunk header or copy token, or a copy token reaching before its chunk.
    """
    if not data or data[0] != _SIGNATURE:
        raise ValueError("not an MS-OVBA compressed container: signature byte is not 0x01")
    out = bytearray()
    position = 1
    while position < len(data):
        if position + 2 > len(data):
            raise ValueError(f"truncated chunk header at offset {position}")
        (header,) = struct.unpack_from("<H", data, position)
        if header & 0x7000 != _HEADER_SIGNATURE:
            raise ValueError(f"bad chunk signature at offset {position}")
        chunk_end = min(position + (header & 0x0FFF) + 3, len(data))
        position += 2
        if not header & _FLAG_COMPRESSED:
            # 2.4.1.3.3: a raw chunk holds 4096 bytes; the last one of a
            # container may hold fewer (see _compress_chunk).
            out += data[position : position + _CHUNK]
            position += _CHUNK
            continue
        chunk_start = len(out)
        while position < chunk_end:  # 2.4.1.3.4 Decompressing a TokenSequence
            flags = data[position]
            position += 1
            for bit in range(8):
                if position >= chunk_end:
                    break
                if not flags >> bit & 1:
                    out.append(data[position])
                    position += 1
                    continue
                if position + 2 > chunk_end:
                    raise ValueError(f"truncated copy token at offset {position}")
                (token,) = struct.unpack_from("<H", data, position)
                position += 2
                difference = len(out) - chunk_start
                if difference == 0:
                    raise ValueError("copy token at the start of a chunk")
                bit_count = _bit_count(difference)
                length = (token & (0xFFFF >> bit_count)) + 3
                offset = (token >> (16 - bit_count)) + 1
                if offset > difference:
                    raise ValueError(f"copy token offset {offset} reaches before its chunk")
                source = len(out) - offset
                if offset >= length:
                    out += out[source : source + length]
                else:
                    # Overlapping copy: bytes written by this token are re-read,
                    # so copy byte by byte as 2.4.1.3.19.3 does.
                    for index in range(source, source + length):
                        out.append(out[index])
    return bytes(out)
