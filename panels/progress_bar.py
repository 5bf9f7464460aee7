# SPDX-License-Identifier: GPL-3.0-or-later
"""A progress bar in a panel: Blender's own on 4.0+, block characters before that."""

from ..memory.report_bars import text_bar


def draw_progress(layout, fraction: float, text: str, *, alert: bool = False) -> None:
    """Draw a bar filled to *fraction* (0..1) labelled *text*."""
    row = layout.row()
    row.alert = alert
    if hasattr(layout, "progress"):
        row.progress(factor=max(0.0, min(fraction, 1.0)), type="BAR", text=text)
    else:
        row.label(text=f"{text_bar(fraction, 6)} {text}")
