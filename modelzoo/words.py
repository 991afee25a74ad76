"""Words in command output: counted nouns ('1 epoch', '3 epochs') and close-match hints."""

from __future__ import annotations

import difflib


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """`count` and `noun`, made plural unless `count` is 1 ('1 epoch', '0 epochs', '2 replicas')."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


def did_you_mean(word: str, candidates) -> str:
    """' (did you mean ...?)' for close matches or candidates containing the word, else ''."""
    candidates = list(candidates)
    matches = difflib.get_close_matches(word, candidates, n=3, cutoff=0.6)
    matches += [c for c in candidates if word and word in c and c not in matches]
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches[:3]) + "?)"
