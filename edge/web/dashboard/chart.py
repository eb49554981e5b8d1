"""The usage page's activity chart as server-rendered SVG geometry: chat and image
requests per UTC day over the last 30 days (pure: history in, bars out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb

DAYS = 30
WIDTH = 600
HEIGHT = 180
BOTTOM = 160
TOP = 12
SLOT = WIDTH / DAYS
IMAGE_KINDS = (accounts_pb.USAGE_KIND_IMAGE_GEN, accounts_pb.USAGE_KIND_IMAGE_EDIT)


@dataclass(frozen=True, slots=True)
class Bar:
    day: str
    chat: int
    images: int
    x: float
    width: float
    chat_y: float
    chat_h: float
    image_y: float
    image_h: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    peak: int
    total_chat: int
    total_images: int
    width: int = WIDTH
    height: int = HEIGHT
    bottom: int = BOTTOM


def _per_day(history: Iterable[accounts_pb.DayUsage]) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    for row in history:
        chat, images = counts.get(row.day, (0, 0))
        if row.kind == accounts_pb.USAGE_KIND_CHAT:
            chat += row.requests
        elif row.kind in IMAGE_KINDS:
            images += row.requests
        counts[row.day] = (chat, images)
    return counts


def activity_chart(history: Iterable[accounts_pb.DayUsage], today: dt.date) -> Chart:
    """Two bars per day (chat, images), scaled to the busiest day."""
    counts = _per_day(history)
    days = [today - dt.timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    values = [counts.get(d.isoformat(), (0, 0)) for d in days]
    peak = max([max(c, i) for c, i in values] + [1])
    scale = (BOTTOM - TOP) / peak
    bars = []
    for index, (day, (chat, images)) in enumerate(zip(days, values, strict=True)):
        x = index * SLOT + SLOT * 0.12
        width = SLOT * 0.36
        bars.append(
            Bar(
                day=day.isoformat(),
                chat=chat,
                images=images,
                x=round(x, 2),
                width=round(width, 2),
                chat_y=round(BOTTOM - chat * scale, 2),
                chat_h=round(chat * scale, 2),
                image_y=round(BOTTOM - images * scale, 2),
                image_h=round(images * scale, 2),
                label=f"{day:%b %d}",
            )
        )
    return Chart(bars, peak, sum(c for c, _ in values), sum(i for _, i in values))
