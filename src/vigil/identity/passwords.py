"""What a password must be: long enough and not one that attackers try first.

NCSC password guidance (and NIST SP 800-63B 5.1.1.2) asks services to refuse passwords found in
breach corpora and common-password lists rather than impose composition rules. The list shipped
beside this module holds the 30,000 most common breached passwords; a candidate is refused if it,
or it with digits and symbols stripped from either end (``Password2024!``), or a word repeated
(``monkeymonkeymonkey``) is on the list, or if it contains the account's username.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

#: shortest password accepted for a local account
MIN_PASSWORD_LENGTH = 12
#: longest accepted (argon2 hashes anything, but a megabyte password is an attack)
MAX_PASSWORD_LENGTH = 1024
LIST_FILE = "common-passwords.txt"

_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled breached/common password list, lower-cased."""
    text = files("vigil.identity").joinpath(LIST_FILE).read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _repeated_unit(word: str) -> str:
    """The shortest string that ``word`` is a repetition of (``abcabc`` -> ``abc``)."""
    for size in range(1, len(word) // 2 + 1):
        if len(word) % size == 0 and word[:size] * (len(word) // size) == word:
            return word[:size]
    return word


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` may not be used, or None if it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must be at most {MAX_PASSWORD_LENGTH} characters"
    lowered = password.lower()
    if username and len(username) >= 3 and username.lower() in lowered:
        return "password must not contain the username"
    common = common_passwords()
    stripped = _EDGES.sub("", lowered)
    candidates = {lowered, stripped, _repeated_unit(lowered), _repeated_unit(stripped)}
    if any(c and c in common for c in candidates) or len(set(lowered)) < 4:
        return (
            "password is on the list of common or breached passwords that attackers try "
            "first: choose another (three random words make a good one)"
        )
    return None
