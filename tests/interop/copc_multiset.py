#!/usr/bin/env python3
"""Order-independent digest of the point records of uncompressed LAS files.

Usage: copc_multiset.py A.las B.las  -> exits 0 when both hold the same multiset of records.
Each record gets a 64-bit hash (weighted byte sum, then a mixing step); the digest is the
record count and the wrapping sum of those hashes. Streams 1 M records at a time."""
import struct
import sys

import numpy as np

def digest(path):
    with open(path, 'rb') as f:
        head = f.read(375)
        offset = struct.unpack_from('<I', head, 96)[0]
        length = struct.unpack_from('<H', head, 105)[0]
        count = struct.unpack_from('<Q', head, 247) if head[25] >= 4 else (struct.unpack_from('<I', head, 107)[0],)
        count = count[0] or struct.unpack_from('<I', head, 107)[0]
        weights = np.random.default_rng(12345).integers(1, 2**63, size=length, dtype=np.uint64) | np.uint64(1)
        f.seek(offset)
        total, seen = np.uint64(0), 0
        with np.errstate(over='ignore'):
            while seen < count:
                n = min(1 << 20, count - seen)
                raw = np.frombuffer(f.read(n * length), dtype=np.uint8).reshape(n, length).astype(np.uint64)
                h = (raw * weights).sum(axis=1, dtype=np.uint64)
                h ^= h >> np.uint64(29)
                h *= np.uint64(0xbf58476d1ce4e5b9)
                h ^= h >> np.uint64(32)
                total += h.sum(dtype=np.uint64)
                seen += n
    return count, int(total)

a, b = digest(sys.argv[1]), digest(sys.argv[2])
print(f'{sys.argv[1]}: {a[0]} records, digest {a[1]:016x}')
print(f'{sys.argv[2]}: {b[0]} records, digest {b[1]:016x}')
sys.exit(0 if a == b else 1)
