"""The edXML lifecycle of one delivery (document, recipient), as a pure state machine.

01 arrived, then 02 rejected (final) or 03 accepted; 03 → 04 assigned → 05 in progress
→ 06 done, a step may be skipped forward, never backward. Recall: the sender sends 13
(while the delivery is not rejected, recalled or already under recall); the recipient
answers 15 (agrees: the delivery is recalled, final) or 16 (refuses: it goes on).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schemas._errors import ValidationError
from schemas._models import StatusCode

__all__ = ["LIFECYCLE_RANK", "DeliveryState", "ImpossibleTransition"]

#: Forward order of the recipient's lifecycle codes.
LIFECYCLE_RANK: Mapping[str, int] = {  # keyed by StatusCode, read with any code
    StatusCode.ARRIVED: 1,
    StatusCode.ACCEPTED: 3,
    StatusCode.ASSIGNED: 4,
    StatusCode.IN_PROGRESS: 5,
    StatusCode.DONE: 6,
}


class ImpossibleTransition(ValidationError):
    """A status notice that the delivery's lifecycle does not allow now."""

    kind = "impossible_notice"

    def __init__(self, problem: str) -> None:
        super().__init__([problem])


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """Where one delivery stands: the recipient's last lifecycle code and any recall."""

    status: str | None = None
    recall: str | None = None

    @property
    def final(self) -> bool:
        """Rejected or recalled: nothing more can happen."""
        return self.status == StatusCode.REJECTED or self.recall == StatusCode.RECALL_AGREED

    @property
    def label(self) -> str:
        """The state in words: ``delivered``, ``03``, ``03 recall requested``, ``recalled``."""
        if self.recall == StatusCode.RECALL_AGREED:
            return "recalled"
        base = self.status or "delivered"
        if self.recall == StatusCode.RECALL_REQUESTED:
            return f"{base} recall requested"
        return base

    def after(self, code: str, *, from_sender: bool) -> DeliveryState:
        """The state once ``code`` applies, or :class:`ImpossibleTransition` saying why not."""
        if self.final:
            what = "rejected (02)" if self.status == StatusCode.REJECTED else "recalled (15)"
            raise ImpossibleTransition(f"status {code} after the delivery was {what}")
        if code == StatusCode.RECALL_REQUESTED:
            if not from_sender:
                raise ImpossibleTransition("only the document's sender may request a recall (13)")
            if self.recall == StatusCode.RECALL_REQUESTED:
                raise ImpossibleTransition("a recall (13) is already pending")
            return DeliveryState(self.status, StatusCode.RECALL_REQUESTED)
        if from_sender:
            raise ImpossibleTransition(f"the sender may only send 13 (recall), not {code}")
        if code in (StatusCode.RECALL_AGREED, StatusCode.RECALL_REFUSED):
            if self.recall != StatusCode.RECALL_REQUESTED:
                raise ImpossibleTransition(f"status {code} answers no pending recall (13)")
            return DeliveryState(self.status, code)
        if code == StatusCode.REJECTED:
            if self.status != StatusCode.ARRIVED:
                raise ImpossibleTransition(
                    f"status 02 (rejected) only follows 01 (arrived), not {self.status or 'nothing'}"
                )
            return DeliveryState(code, self.recall)
        rank = LIFECYCLE_RANK.get(code)
        if rank is None:
            raise ImpossibleTransition(f"status {code} is not part of a delivery's lifecycle")
        if self.status is None and code != StatusCode.ARRIVED:
            raise ImpossibleTransition(f"status {code} before 01 (arrived)")
        current = LIFECYCLE_RANK.get(self.status, 0) if self.status else 0
        if rank <= current:
            raise ImpossibleTransition(f"status {code} after {self.status}: a step never goes back")
        return DeliveryState(code, self.recall)
