"""The hash tree of a signed batch: RFC 9162 (Certificate Transparency 2.0), section 2.1.

Leaf hash ``SHA-256(0x00 || value)``, node hash ``SHA-256(0x01 || left || right)``; a tree
of n leaves splits at the largest power of two below n, which is the same as building it
level by level and carrying a level's last, unpaired node up unchanged. An inclusion
proof is the list of sibling hashes from the leaf up; :func:`root_from_proof` is
RFC 9162's verification algorithm (2.1.3.2), which also refuses a path that is too long or
too short for the leaf's index and the tree's size. The format around it (headers, the
signed message) is in ``schemas/SIGNATURES.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

__all__ = ["leaf_hash", "proofs_and_root", "root_from_proof"]

_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(value: bytes) -> bytes:
    """The hash of one record's value as a leaf."""
    return sha256(_LEAF + value).digest()


def proofs_and_root(values: Sequence[bytes]) -> tuple[list[list[bytes]], bytes]:
    """Every leaf's inclusion path (siblings from the bottom up) and the tree's root."""
    if not values:
        raise ValueError("a hash tree needs at least one leaf")
    level = [leaf_hash(v) for v in values]
    paths: list[list[bytes]] = [[] for _ in values]
    # positions[i]: where leaf i's ancestor sits in the current level
    positions = list(range(len(values)))
    while len(level) > 1:
        for leaf, at in enumerate(positions):
            sibling = at ^ 1
            if sibling < len(level):
                paths[leaf].append(level[sibling])
            positions[leaf] = at >> 1
        level = [
            sha256(_NODE + level[i] + level[i + 1]).digest() if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    return paths, level[0]


def root_from_proof(value: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root that ``path`` proves ``value`` (leaf ``index`` of ``size``) belongs to; None
    when the path cannot be one for that index and size (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    node = leaf_hash(value)
    for sibling in path:
        if sn == 0:
            return None  # longer than the tree is deep
        if fn & 1 or fn == sn:
            node = sha256(_NODE + sibling + node).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = sha256(_NODE + node + sibling).digest()
        fn >>= 1
        sn >>= 1
    return node if sn == 0 else None
