"""What a replay's documents should produce: each delivery's modelled answers, counted."""

from __future__ import annotations

import collections
import random
from dataclasses import dataclass, field

from producers.simulation import Answer, ReceiverBehaviour
from schemas import Document

__all__ = ["Expected", "answers_for"]


def answers_for(
    behaviour: ReceiverBehaviour, seed: int, document: Document, recipient: str
) -> list[Answer]:
    """The recipient's answers to one delivery: the same wherever they are computed (the
    senders count them, the recipient's clerk gives them)."""
    rng = random.Random(f"{seed}:{document.document_id}:{recipient}")
    return behaviour.answers(document.priority, rng)


@dataclass
class Expected:
    """What the documents sent so far should produce."""

    documents: int = 0
    deliveries: int = 0
    notices: int = 0
    per_agency: collections.Counter[str] = field(default_factory=collections.Counter)

    def add(self, document: Document, behaviour: ReceiverBehaviour, seed: int) -> None:
        """Count ``document``, its deliveries and the answers each will get."""
        self.documents += 1
        self.per_agency[document.sender] += 1
        for recipient in document.recipients:
            self.deliveries += 1
            # Notices are counted once each by (document, answering unit, code): a unit
            # answers each code once per document.
            self.notices += len(answers_for(behaviour, seed, document, recipient))

    def merge(self, other: Expected) -> None:
        """Add ``other``'s counts to these."""
        self.documents += other.documents
        self.deliveries += other.deliveries
        self.notices += other.notices
        self.per_agency.update(other.per_agency)
