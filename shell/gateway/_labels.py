"""The console's words for the bus's codes, in Vietnamese as clerks read them."""

from types import MappingProxyType

__all__ = ["PRIORITY_LABELS", "STATUS_LABELS", "state_label"]

STATUS_LABELS = MappingProxyType(
    {
        "01": "Đã đến",
        "02": "Từ chối tiếp nhận",
        "03": "Đã tiếp nhận",
        "04": "Đã phân công",
        "05": "Đang xử lý",
        "06": "Hoàn thành",
        "13": "Yêu cầu lấy lại",
        "15": "Đồng ý lấy lại",
        "16": "Từ chối lấy lại",
        "90": "Chuyển cơ quan kế thừa",
    }
)
PRIORITY_LABELS = MappingProxyType(
    {0: "Thường", 1: "Khẩn", 2: "Thượng khẩn", 3: "Hỏa tốc", 4: "Hỏa tốc hẹn giờ"}
)


def state_label(status: str | None, recall: str | None) -> str:
    """A delivery's state in words: its status, or in transit before the first 01."""
    if recall == "15":
        return "Đã lấy lại"
    words = STATUS_LABELS.get(status or "", "Đang chuyển")
    if recall == "13":
        return f"{words} · yêu cầu lấy lại"
    return words
