"""What a consultee or a debriefing officer states about a case, as one value each.

The service, the app layer, the CLI and the seasons pass these whole instead of each spelling out
the same argument list. Each names which of its fields are free text (``TEXT``): those are
screened for personal data and logged by the service; the rest (a position, counts) go to the
workflow transition as they are. The workflow checks them against the policy (who may record a
consultation, which positions exist, counts not negative) when it records them, once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Statement:
    """Base of the statements: splits the fields into free text and the rest."""

    TEXT: ClassVar[tuple[str, ...]] = ()

    def said(self) -> dict[str, str]:
        """The free-text fields, by name: screened, logged and passed to the transition."""
        fields = asdict(self)
        return {name: fields[name] for name in self.TEXT}

    def facts(self) -> dict[str, Any]:
        """The other fields, by name, passed to the transition as they are."""
        return {k: v for k, v in asdict(self).items() if k not in self.TEXT}


@dataclass(frozen=True)
class Consultation(Statement):
    """A consultee's (``local_commander``, ``community``) position (concur | object | abstain)
    on a case, with reasons."""

    TEXT: ClassVar[tuple[str, ...]] = ("reasons",)
    consultee: str
    position: str
    reasons: str


@dataclass(frozen=True)
class Debrief(Statement):
    """How an ended deployment went: what happened, incident and complaint counts, and what
    the community said."""

    TEXT: ClassVar[tuple[str, ...]] = ("what_happened", "community_feedback")
    what_happened: str
    incidents: int
    complaints: int
    community_feedback: str = ""


__all__ = ["Consultation", "Debrief", "Statement"]
