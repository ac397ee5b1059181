"""Where and how a run happened (Origin, the report's `agent` key) and the shells that run one (Mode).

Apart from the report (vpc_verify.report re-exports them): a run's options name their origin before the sweep,
and the report's model is built after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from vpc_verify.aws.whereami import Place

Mode = Literal["cli", "agent", "lambda", "diagnose"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where and how the run happened: the shell that ran it and, when known, where the agent stands."""

    mode: Mode
    hostname: str = ""
    place: Place | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the report's `agent` key)."""
        return {"hostname": self.hostname, "mode": self.mode, **(self.place.to_dict() if self.place else {})}
