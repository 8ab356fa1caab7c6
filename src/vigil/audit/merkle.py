"""The Merkle tree over the audit log, as Certificate Transparency builds it (RFC 6962 s.2.1,
RFC 9162 s.2.1).

Leaves are the entries' chain hashes in sequence order. A signed checkpoint commits to the
root of the first ``n`` leaves; any later tree that still contains those ``n`` leaves unchanged
has a *consistency proof* against it (a handful of hashes), and any rewrite of them, rehashed
or not, has none. Leaf and node hashes are domain-separated (0x00 / 0x01 prefixes) so a node can
never pass for a leaf.

:class:`CompactRange` keeps only the roots of the perfect subtrees of the tree so far (at most
log2(n) hashes), so the running server extends the tree from its last checkpoint by reading only
the entries written since (the Tessera/Trillian "compact range").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

#: the root of the empty tree: SHA-256 of the empty string (RFC 6962 s.2.1)
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def leaf_hash(entry_hash: str) -> bytes:
    """The tree's leaf for one entry: SHA-256(0x00 || the entry's chain hash as bytes)."""
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 over already leaf-hashed ``leaves``."""
    n = len(leaves)
    if n == 0:
        return bytes.fromhex(EMPTY_ROOT)
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


@dataclass
class CompactRange:
    """The perfect subtrees covering leaves ``[0, size)``, largest first: enough to extend the
    tree and compute its root without the leaves themselves."""

    size: int = 0
    #: (leaf count, subtree root) pairs, counts strictly decreasing powers of two
    peaks: list[tuple[int, bytes]] = field(default_factory=list)

    def append(self, leaf: bytes) -> None:
        count, node = 1, leaf
        while self.peaks and self.peaks[-1][0] == count:
            left_count, left = self.peaks.pop()
            count, node = left_count + count, node_hash(left, node)
        self.peaks.append((count, node))
        self.size += 1

    def root(self) -> bytes:
        if not self.peaks:
            return bytes.fromhex(EMPTY_ROOT)
        node = self.peaks[-1][1]
        for _, left in reversed(self.peaks[:-1]):
            node = node_hash(left, node)
        return node

    def to_json(self) -> list[list[object]]:
        return [[count, node.hex()] for count, node in self.peaks]

    @classmethod
    def from_json(cls, size: int, data: Sequence[Sequence[object]]) -> CompactRange:
        peaks = [(int(str(c)), bytes.fromhex(str(h))) for c, h in data]
        if sum(c for c, _ in peaks) != size:
            raise ValueError(f"compact range does not cover {size} leaves")
        return cls(size=size, peaks=peaks)


# ---------------------------------------------------------------------- consistency proofs
def consistency_proof(leaves: Sequence[bytes], m: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 s.2.1.2: the hashes that show the tree of the first ``m``
    leaves is a prefix of the tree of all ``len(leaves)``."""
    n = len(leaves)
    if not 0 < m <= n:
        raise ValueError(f"no consistency proof from size {m} to size {n}")
    return _subproof(m, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root_of(leaves)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves[:k], complete) + [root_of(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [root_of(leaves[:k])]


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 s.2.1.4.2: True when ``proof`` shows the tree of size ``second`` with root
    ``second_root`` extends the tree of size ``first`` with root ``first_root``."""
    if first == second:
        return not proof and first_root == second_root
    if not 0 < first < second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first root is itself a subtree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
