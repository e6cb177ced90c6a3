"""Sub-units of each top-level agency, generated deterministically (illustrative names and codes).

Provinces get departments (Sở) with their divisions, and districts with communes, each
commune with a handful of local units (level 4); ministries get departments and
directorates (Vụ, Cục) with divisions and teams. About 1,300 units a province and 420 a
ministry: about 100,000 units in all, the size of the real directories.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from docbus.directory._agency import PROVINCE_KINDS

__all__ = ["Unit", "generate_units"]

_DEPARTMENTS = (
    "Văn phòng Ủy ban nhân dân",
    "Sở Nội vụ",
    "Sở Tư pháp",
    "Sở Tài chính",
    "Sở Công Thương",
    "Sở Nông nghiệp và Môi trường",
    "Sở Xây dựng",
    "Sở Giáo dục và Đào tạo",
    "Sở Y tế",
    "Sở Khoa học và Công nghệ",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Thanh tra tỉnh",
    "Sở Ngoại vụ",
    "Sở Dân tộc và Tôn giáo",
    "Công an tỉnh",
    "Bộ Chỉ huy Quân sự tỉnh",
    "Ban Quản lý các khu công nghiệp",
    "Đài Phát thanh và Truyền hình",
    "Kho bạc Nhà nước",
    "Cục Thuế",
    "Bảo hiểm xã hội",
    "Trung tâm Phục vụ hành chính công",
)
_MINISTRY_UNITS = (
    "Văn phòng",
    "Vụ Tổ chức cán bộ",
    "Vụ Pháp chế",
    "Vụ Kế hoạch - Tài chính",
    "Vụ Hợp tác quốc tế",
    "Thanh tra",
    "Cục Chuyển đổi số",
    "Vụ Tổng hợp",
    "Cục Quản lý",
    "Vụ Thi đua - Khen thưởng",
    "Trung tâm Thông tin",
    "Viện Chiến lược",
    "Báo",
    "Tạp chí",
    "Cục Kiểm tra",
    "Vụ Khoa học",
    "Vụ Đổi mới",
    "Cục Giám sát",
    "Học viện",
    "Trường Cán bộ",
)
_DIVISIONS = (
    "Phòng Tổng hợp",
    "Phòng Hành chính",
    "Phòng Nghiệp vụ",
    "Phòng Kế hoạch",
    "Phòng Pháp chế",
    "Phòng Thanh tra",
    "Phòng Tổ chức",
)
_TEAMS = ("Tổ Văn thư", "Tổ Lưu trữ", "Tổ Công nghệ thông tin", "Tổ Một cửa")
_LOCAL = (
    "Công an",
    "Trạm Y tế",
    "Trường Tiểu học",
    "Trường Trung học cơ sở",
    "Trường Mầm non",
    "Ban Chỉ huy Quân sự",
)
_SYLLABLES = (
    "An",
    "Bình",
    "Hòa",
    "Phú",
    "Tân",
    "Thạnh",
    "Long",
    "Hưng",
    "Phước",
    "Thuận",
    "Đông",
    "Tây",
    "Nam",
    "Bắc",
    "Trung",
    "Sơn",
    "Thủy",
    "Lộc",
    "Mỹ",
    "Vĩnh",
    "Quang",
    "Thành",
    "Hải",
    "Định",
    "Lợi",
    "Xuân",
    "Hạ",
    "Đức",
    "Minh",
    "Kim",
    "Ngọc",
    "Lâm",
    "Hoa",
    "Cát",
    "Tiến",
    "Yên",
    "Khánh",
    "Phong",
    "Hiệp",
    "Gia",
)


@dataclass(frozen=True, slots=True)
class Unit:
    """A sub-unit (level 2 to 4) of a top-level agency; its name is illustrative."""

    code: str
    name: str
    level: int
    parent: str


def generate_units(top_code: str, kind: str) -> Iterator[Unit]:
    """The sub-units of ``top_code``, the same on every run."""
    rng = random.Random(zlib.crc32(top_code.encode()))
    letter = top_code[-3:]
    if kind in PROVINCE_KINDS:
        yield from _province(rng, top_code, letter)
    else:
        yield from _ministry(rng, top_code, letter)


def _code(letter: str, level2: int, level3: int = 0, level4: int = 0) -> str:
    return f"{level4:03d}.{level3:02d}.{level2:02d}.{letter}"


def _place(rng: random.Random) -> str:
    return f"{rng.choice(_SYLLABLES)} {rng.choice(_SYLLABLES)}"


def _province(rng: random.Random, top: str, letter: str) -> Iterator[Unit]:
    departments = rng.randint(17, len(_DEPARTMENTS))
    for y, name in enumerate(_DEPARTMENTS[:departments], start=1):
        dept = _code(letter, y)
        yield Unit(dept, name, 2, top)
        for z in range(1, rng.randint(3, 6) + 1):
            yield Unit(_code(letter, y, z), _DIVISIONS[(z - 1) % len(_DIVISIONS)], 3, dept)
    for y in range(departments + 1, departments + rng.randint(9, 16) + 1):
        district = _code(letter, y)
        yield Unit(district, f"Ủy ban nhân dân huyện {_place(rng)}", 2, top)
        for z in range(1, rng.randint(12, 22) + 1):
            commune_name = _place(rng)
            commune = _code(letter, y, z)
            yield Unit(commune, f"Ủy ban nhân dân xã {commune_name}", 3, district)
            for v in range(1, rng.randint(4, 6) + 1):
                yield Unit(_code(letter, y, z, v), f"{_LOCAL[v - 1]} xã {commune_name}", 4, commune)


def _ministry(rng: random.Random, top: str, letter: str) -> Iterator[Unit]:
    for y, name in enumerate(_MINISTRY_UNITS, start=1):
        unit = _code(letter, y)
        yield Unit(unit, name, 2, top)
        for z in range(1, rng.randint(4, 6) + 1):
            division = _code(letter, y, z)
            yield Unit(division, _DIVISIONS[(z - 1) % len(_DIVISIONS)], 3, unit)
            for v in range(1, rng.randint(2, 4) + 1):
                yield Unit(_code(letter, y, z, v), _TEAMS[v - 1], 4, division)
