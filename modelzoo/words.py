"""Counted nouns in command output: '1 epoch', '3 epochs'."""

from __future__ import annotations


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """`count` and `noun`, made plural unless `count` is 1 ('1 epoch', '0 epochs', '2 replicas')."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"
