"""Reading values out of an edXML element tree, with errors that name the element and line."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeVar

from docbus._exceptions import EdxmlError
from docbus.edxml._tree import Element
from schemas import Organ, StaffInfo, code_list_problem

__all__ = [
    "ORGAN_FIELDS",
    "STAFF_FIELDS",
    "at",
    "check_rules",
    "code",
    "has_text",
    "organ",
    "staff",
    "text",
    "value",
    "whole_number",
]

T = TypeVar("T")
_E = TypeVar("_E", bound=enum.Enum)

#: The children of From/To that :func:`organ` reads.
ORGAN_FIELDS = (
    "OrganId",
    "OrganizationInCharge",
    "OrganName",
    "OrganAdd",
    "Email",
    "Telephone",
    "Fax",
    "Website",
)
#: The children of StaffInfo that :func:`staff` reads.
STAFF_FIELDS = ("Department", "Staff", "Position", "Email", "Mobile")


def text(parent: Element, *path: str, required: bool = False) -> str:
    """The text at ``path`` below ``parent`` ('' if absent); ``required``: absent or empty
    is an :class:`EdxmlError` naming the element."""
    element = at(parent, *path)
    if element is None or (required and not element.text):
        if required:
            where = f"{parent.path}/{'/'.join(path)}"
            raise EdxmlError("required element is missing or empty", element=where)
        return ""
    return element.text


def has_text(element: Element) -> bool:
    """Whether ``element`` or any descendant carries text (an empty element is absent)."""
    return bool(element.text) or any(has_text(c) for c in element.children)


def at(parent: Element | None, *path: str) -> Element | None:
    """The element at ``path`` below ``parent``; each step may list spellings as ``A|B``."""
    for step in path:
        if parent is None:
            return None
        parent = parent.child(*step.split("|"))
    return parent


def value(parent: Element, path: str, convert: Callable[[str], T], default: T) -> T:
    """The text at ``path`` converted, ``default`` if absent or empty; a value of the wrong
    form is an :class:`EdxmlError` naming the element."""
    element = at(parent, *path.split("/"))
    if element is None or not element.text:
        return default
    try:
        return convert(element.text)
    except ValueError as exc:
        raise EdxmlError(str(exc), element=element.where()) from None


def whole_number(raw: str) -> int:
    """``raw`` as an int, or a ``ValueError`` saying it is not one."""
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a whole number") from None


def code(kind: type[_E], raw: object, field_name: str, element: Element) -> _E:
    """``raw`` as a member of the code list ``kind``, or the edXML rule it breaks."""
    problem = code_list_problem(kind, raw, field_name)
    if problem is not None:
        raise EdxmlError(f"the message breaks the edXML rules: {problem}", element=element.where())
    return kind(raw)


def check_rules(problems: list[str], what: str, element: Element) -> None:
    """Refuse ``what`` (a document, a status) with every edXML rule it breaks, if any."""
    if problems:
        raise EdxmlError(
            f"the {what} breaks the edXML rules: " + "; ".join(problems), element=element.where()
        )


def organ(element: Element) -> Organ:
    """A From or To element as an :class:`Organ` (its OrganId is required)."""
    return Organ(
        organ_id=text(element, "OrganId", required=True),
        organization_in_charge=text(element, "OrganizationInCharge"),
        name=text(element, "OrganName"),
        address=text(element, "OrganAdd"),
        email=text(element, "Email"),
        telephone=text(element, "Telephone"),
        fax=text(element, "Fax"),
        website=text(element, "Website"),
    )


def staff(element: Element | None) -> StaffInfo:
    """A StaffInfo element (or its absence) as :class:`StaffInfo`."""
    if element is None:
        return StaffInfo()
    return StaffInfo(
        department=text(element, "Department"),
        full_name=text(element, "Staff"),
        position=text(element, "Position"),
        email=text(element, "Email"),
        mobile=text(element, "Mobile"),
    )
