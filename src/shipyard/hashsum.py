"""werf's hash helpers (common-go pkg/util/hashsum.go): args joined with ':::' then hashed."""

from __future__ import annotations

import hashlib

import mmh3

ARG_SEPARATOR = ":::"


def sha3_224_hash(*args: str) -> str:
    """H3: every stage digest (56 hex chars)."""
    return hashlib.sha3_224(ARG_SEPARATOR.join(args).encode()).hexdigest()


def sha256_hash(*args: str) -> str:
    """H256: inner dependency hashes (64 hex chars)."""
    return hashlib.sha256(ARG_SEPARATOR.join(args).encode("utf-8", "surrogateescape")).hexdigest()


def murmur_hash(*args: str) -> str:
    """MUR: murmur3 32-bit, seed 0, printed %x without zero padding (1..8 hex chars)."""
    return format(mmh3.hash(ARG_SEPARATOR.join(args).encode(), 0, signed=False), "x")
