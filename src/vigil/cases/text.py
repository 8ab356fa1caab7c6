"""A guard against personal data in free text: Vigil stores areas, times and reasons, never
names of people.

The check is deliberately simple and errs towards asking: a title (Mr, Mrs, Ms, Miss, Dr ...)
followed by a capitalised word, or two or more consecutive capitalised words that are not
London place names, borough names, street words or common case vocabulary. Multi-word
place names ("King's Cross", "Seven Sisters") come from the wards and boroughs in
``london_places.txt`` and are passed over before any run is judged. A hit refuses the text
with :class:`PersonalDataSuspected` naming the phrase; the caller may confirm that it is not a
person (``confirm_no_personal_data=True``), and that confirmation is itself audited.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from vigil.errors import VigilError

TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "sir", "dame", "lady", "lord"})

#: capitalised words that commonly start or end place and organisation names, and case words
_PLACE_AND_CASE_WORDS = """
    London City Westminster Camden Islington Hackney Haringey Enfield Barnet Brent Ealing
    Harrow Hillingdon Hounslow Richmond Kingston Merton Sutton Croydon Bromley Lewisham
    Greenwich Bexley Havering Barking Dagenham Redbridge Newham Tower Hamlets Waltham Forest
    Southwark Lambeth Wandsworth Hammersmith Fulham Kensington Chelsea Upon Thames Royal
    Borough Street Road Lane Avenue Square Place Park Hill High Estate Gardens Green Common Way
    Close Court Crescent Drive Grove Terrace Walk Row Bridge Station Market Broadway Parade
    Rise Yard North South East West Central Upper Lower Old New Great Little St Saint Brixton
    Peckham Tottenham Stratford Shoreditch Dalston Soho Wembley Acton Streatham Clapham
    Deptford Woolwich Ilford Romford Walthamstow Leyton Bow Poplar Stepney Whitechapel
    Battersea Balham Tooting Catford Sydenham Edmonton Wood Harlesden Kilburn Holloway
    Camberwell Elephant Castle Vauxhall Kennington Notting Hill Gate Ladbroke Grove Bethnal
    Mile End Canary Wharf Isle Dogs Kentish Town Finsbury Holborn Angel Hoxton Homerton
    Independent Advisory Group Safer Neighbourhood Board Team Unit Police Metropolitan Service
    Community Council Mayor Office MOPAC BCU Commander Superintendent Inspector Sergeant Monday
    Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June
    July August September October November December Section Act Order Stop Search The Serious
    Violence Knife Crime Gang Youth School Academy College Church Mosque Centre Hospital Tube
    Underground Overground Bus Library Leisure Sports Shopping Night Day Area Zone
"""
ALLOWED = frozenset(w.lower() for w in _PLACE_AND_CASE_WORDS.split())

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*\.?")


class PersonalDataSuspected(VigilError):
    """Free text looks like it names a person."""


def suspected_names(text: str) -> list[str]:
    """Phrases in ``text`` that look like a person's name (empty: nothing suspicious)."""
    tokens = [m.group(0) for m in _WORD.finditer(text or "")]
    place = [_place_at(tokens, k) for k in range(len(tokens))]  # place name length at each word
    hits: list[str] = []
    i = 0
    while i < len(tokens):
        if place[i]:
            i += place[i]
            continue
        word = tokens[i].rstrip(".")
        if word.lower() in TITLES and i + 1 < len(tokens) and tokens[i + 1][:1].isupper():
            hits.append(f"{tokens[i]} {tokens[i + 1]}")
            i += 2
            continue
        run = []
        j = i
        while j < len(tokens) and _is_name_like(tokens[j]) and not (j > i and place[j]):
            run.append(tokens[j].rstrip("."))
            j += 1
        if len(run) >= 2:
            hits.append(" ".join(run))
            i = j
            continue
        i += 1
    return hits


def _key(word: str) -> str:
    return word.rstrip(".").lower().replace("'", "").replace("\u2019", "")


@cache
def _places() -> tuple[frozenset[tuple[str, ...]], int]:
    """Multi-word London place names as word keys ("kings", "cross"), and the longest: a ward
    such as "Tolworth and Hook Rise" is known whole, without its "and", and as each place."""
    text = resources.files("vigil.cases").joinpath("london_places.txt").read_text("utf-8")
    phrases: set[tuple[str, ...]] = set()
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        whole = tuple(_key(w) for w in _WORD.findall(line))
        candidates = [whole, tuple(w for w in whole if w != "and")]
        candidates += [
            tuple(_key(w) for w in _WORD.findall(part))
            for part in re.split(r"\s+(?:and|&)\s+|,\s*", line)
        ]
        phrases.update(c for c in candidates if len(c) >= 2)
    return frozenset(phrases), max((len(p) for p in phrases), default=0)


def _place_at(tokens: list[str], i: int) -> int:
    """How many tokens from ``i`` spell a London place (longest match), or 0."""
    places, longest = _places()
    for n in range(min(longest, len(tokens) - i), 1, -1):
        if tuple(_key(w) for w in tokens[i : i + n]) in places:
            return n
    return 0


def _is_name_like(token: str) -> bool:
    word = token.rstrip(".")
    return (
        len(word) > 1
        and word[0].isupper()
        and not word.isupper()
        and word.lower() not in ALLOWED
        and word.lower() not in TITLES
    )


def check_free_text(fields: dict[str, str | None], confirmed: bool) -> dict[str, list[str]]:
    """Refuse text that looks like it names people unless ``confirmed``; return the hits."""
    hits = {k: suspected_names(v) for k, v in fields.items() if v}
    hits = {k: v for k, v in hits.items() if v}
    if hits and not confirmed:
        where = "; ".join(f"field '{k}': {', '.join(repr(p) for p in v)}" for k, v in hits.items())
        raise PersonalDataSuspected(
            f"free text looks like it names a person ({where}). Vigil records areas, times and "
            "reasons only: remove the name, or confirm it is not a person "
            "(confirm_no_personal_data / --confirm-no-personal-data)"
        )
    return hits
