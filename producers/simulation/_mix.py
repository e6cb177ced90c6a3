"""Simulated sending agencies: a realistic, seeded mix of documents from ministries and provinces.

The mix (stated assumptions, sized to ~1.4 deliveries per document, WORKLOAD.md):
document types led by official letters; priority 88% normal, 6% urgent, 3% very urgent,
2.5% express, 0.5% express at a set time; recipients 85% one, 8% two, 4% three, 2.5% four
to six, 0.3% all provinces, 0.15% all ministries, 0.05% both; 5% of recipients are
departments (level-2 units) rather than the agency itself; a third carry an attachment,
small ones inline and large ones by reference. Senders are weighted: the Government
Office is the hub, the large cities and the central ministries send more, and an agency
that absorbed others in the 2025 reorganisation sends with their weights added.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from docbus.directory import GOVERNMENT_KINDS, OUTSIDE_KINDS, PROVINCE_KINDS, Agency, Directory
from producers._documents import new_document_id
from schemas import VN_TIME, Attachment, Document, DocumentType, Priority, Signer, today_vn

__all__ = ["DocumentMix"]

# (type, type_detail, name, notation prefix, weight)
_TYPES: Sequence[tuple[int, int, str, str, float]] = (
    (1, 0, "Công văn", "", 55.0),
    (2, 1, "Quyết định", "QĐ-", 12.0),
    (2, 2, "Thông báo", "TB-", 9.0),
    (2, 3, "Báo cáo", "BC-", 9.0),
    (2, 4, "Kế hoạch", "KH-", 6.0),
    (2, 5, "Tờ trình", "TTr-", 4.0),
    (2, 6, "Chỉ thị", "CT-", 2.0),
    (2, 7, "Giấy mời", "GM-", 3.0),
)
_PRIORITIES = (
    (Priority.NORMAL, 88.0),
    (Priority.URGENT, 6.0),
    (Priority.VERY_URGENT, 3.0),
    (Priority.EXPRESS, 2.5),
    (Priority.EXPRESS_TIMED, 0.5),
)
_TOPICS = (
    "triển khai Nghị quyết 01/NQ-CP về nhiệm vụ, giải pháp chủ yếu thực hiện kế hoạch năm",
    "đẩy mạnh cải cách thủ tục hành chính và chuyển đổi số",
    "báo cáo tình hình kinh tế - xã hội tháng",
    "tổ chức hội nghị trực tuyến với các địa phương",
    "phòng, chống thiên tai và tìm kiếm cứu nạn",
    "kiện toàn Tổ công tác cải cách thủ tục hành chính của Thủ tướng Chính phủ",
    "thực hiện Chỉ thị 27/CT-TTg về tăng cường công tác quản lý",
    "giải ngân vốn đầu tư công",
    "sắp xếp đơn vị hành chính cấp xã",
    "góp ý dự thảo Nghị định",
    "tăng cường công tác phòng, chống dịch bệnh",
    "cung cấp thông tin phục vụ công tác thống kê",
)
_SIGNERS = (
    Signer(competence="KT. Bộ trưởng", position="Thứ trưởng", full_name="Trần Văn Bình"),
    Signer(competence="TM. Ủy ban nhân dân", position="Chủ tịch", full_name="Lê Thị Hoa"),
    Signer(competence="KT. Chủ tịch", position="Phó Chủ tịch", full_name="Phạm Minh Đức"),
    Signer(competence="TL. Bộ trưởng", position="Chánh Văn phòng", full_name="Nguyễn Thị Mai"),
)


@dataclass(frozen=True, slots=True)
class _Sender:
    agency: Agency
    weight: float


class DocumentMix:
    """A deterministic stream of realistic documents between the directory's agencies."""

    def __init__(
        self,
        directory: Directory,
        *,
        seed: int = 2024,
        first_number: int = 1,
        at: dt.date | None = None,
    ) -> None:
        self._rng = random.Random(seed)
        # the national bodies the yearly figures count; parties known by other ids are not
        self._agencies = [
            a for a in directory.open_at(at or today_vn()) if a.kind not in OUTSIDE_KINDS
        ]
        self._ministries = [a.code for a in self._agencies if a.kind in GOVERNMENT_KINDS]
        self._provinces = [a.code for a in self._agencies if a.kind in PROVINCE_KINDS]
        self._departments = _departments(directory, [a.code for a in self._agencies])
        absorbed = _absorbed(directory, at or today_vn())
        self._senders = [
            _Sender(a, _sender_weight(a) + sum(_sender_weight(p) for p in absorbed.get(a.code, ())))
            for a in self._agencies
        ]
        self._weights = [s.weight for s in self._senders]
        self._numbers = {a.code: first_number for a in self._agencies}

    def reseed(self, seed: int, *, first_number: int = 1) -> None:
        """Start over as a new mix with ``seed`` would (same agencies): cheaper than a new one."""
        self._rng = random.Random(seed)
        self._numbers = dict.fromkeys(self._numbers, first_number)

    def documents(self, count: int, *, sent_at: dt.datetime | None = None) -> Iterator[Document]:
        """``count`` new documents; ``sent_at`` defaults to the moment each is made."""
        for _ in range(count):
            yield self.document(sent_at=sent_at)

    def document(self, *, sent_at: dt.datetime | None = None) -> Document:
        """One new document from a weighted random sender."""
        rng = self._rng
        sender = rng.choices(self._senders, self._weights)[0].agency
        type_, detail, type_name, prefix, _ = rng.choices(_TYPES, [t[4] for t in _TYPES])[0]
        number = self._numbers[sender.code]
        self._numbers[sender.code] = number + 1
        notation = f"{prefix}{sender.abbreviation}" if prefix else f"{sender.abbreviation}-VP"
        now = sent_at or dt.datetime.now(dt.UTC)
        today = now.astimezone(VN_TIME).date()
        topic = rng.choice(_TOPICS)
        return Document(
            document_id=new_document_id(sender.code, today, str(number), notation),
            sender=sender.code,
            recipients=tuple(self._recipients(sender.code)),
            code_number=str(number),
            code_notation=notation,
            promulgation_place=_place(sender),
            promulgation_date=today,
            document_type=DocumentType(type=type_, type_detail=detail, type_name=type_name),
            subject=f"V/v {topic}",
            content=f"{type_name} của {sender.name} về việc {topic}.",
            signer=rng.choice(_SIGNERS),
            priority=rng.choices([p for p, _ in _PRIORITIES], [w for _, w in _PRIORITIES])[0],
            due_date=today + dt.timedelta(days=rng.choice((3, 5, 7, 10, 15)))
            if rng.random() < 0.3
            else None,
            attachments=self._attachments(number),
            sent_at=now,
            page_amount=rng.randint(1, 12),
        )

    def _recipients(self, sender: str) -> list[str]:
        rng = self._rng
        roll = rng.random() * 100
        others = [a.code for a in self._agencies if a.code != sender]
        if roll < 0.3:
            chosen = [c for c in self._provinces if c != sender]
        elif roll < 0.45:
            chosen = [c for c in self._ministries if c != sender]
        elif roll < 0.5:
            chosen = others
        else:
            count = (
                1 if roll < 85.5 else 2 if roll < 93.5 else 3 if roll < 97.5 else rng.randint(4, 6)
            )
            chosen = rng.sample(others, count)
        return [self._maybe_department(code) for code in chosen]

    def _maybe_department(self, code: str) -> str:
        departments = self._departments.get(code)
        if departments and self._rng.random() < 0.05:
            return self._rng.choice(departments)
        return code

    def _attachments(self, number: int) -> tuple[Attachment, ...]:
        rng = self._rng
        if rng.random() >= 1 / 3:
            return ()
        if rng.random() < 0.5:
            content = rng.randbytes(rng.randint(200, 600))
            return (Attachment.inline(f"att-{number}", f"phu-luc-{number}.pdf", content),)
        digest = hashlib.sha256(f"scan-{number}-{rng.random()}".encode()).hexdigest()
        return (
            Attachment(
                content_id=f"att-{number}",
                name=f"van-ban-scan-{number}.pdf",
                content_type="application/pdf",
                size_bytes=rng.randint(200_000, 8_000_000),
                sha256=digest,
                blob_ref=f"sha256:{digest}",
            ),
        )


def _sender_weight(agency: Agency) -> float:
    if agency.code.endswith("G22"):
        return 8.0
    if agency.code[-3:] in {"G12", "G09", "G10"}:
        return 3.0
    if agency.code[-3:] in {"H24", "H29"}:
        return 4.0
    if agency.kind == "city":
        return 2.0
    return 1.5


def _absorbed(directory: Directory, at: dt.date) -> dict[str, list[Agency]]:
    """The agencies closed by ``at`` that each agency took over: it sends for them too."""
    absorbed: dict[str, list[Agency]] = {}
    for agency in directory:
        if agency.valid_to is None or agency.valid_to >= at:
            continue
        for successor in agency.successors:
            absorbed.setdefault(successor, []).append(agency)
    return absorbed


def _place(agency: Agency) -> str:
    if agency.kind in {"province", "city"}:
        return agency.name.removeprefix("Ủy ban nhân dân tỉnh ").removeprefix(
            "Ủy ban nhân dân thành phố "
        )
    return "Hà Nội"


def _departments(directory: Directory, codes: list[str]) -> dict[str, list[str]]:
    """The level-2 units of each of ``codes``, in directory order."""
    wanted = set(codes)
    departments: dict[str, list[str]] = {}
    for unit in directory.units.values():
        if unit.level == 2 and unit.parent in wanted:
            departments.setdefault(unit.parent, []).append(unit.code)
    return departments
