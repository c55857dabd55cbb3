"""Text fitted to a width measured as a reader sees it: a CJK character takes two columns, others one."""

from __future__ import annotations

import re
import unicodedata


def display_width(text: str) -> int:
    """Display width: a CJK character is two columns, other characters one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap_cell(text: str, columns: int) -> str:
    """``text`` broken into lines of at most ``columns`` display columns (at "；" and spaces when it can)."""
    lines, line = [], ""
    for piece in re.split(r"(?<=[；;，,、 ])", str(text)):
        while display_width(piece) > columns:  # a piece longer than a line: cut it where it must
            room = columns - display_width(line)
            k = 0
            while k < len(piece) and display_width(piece[:k + 1]) <= room:
                k += 1
            if k == 0 and line:
                lines.append(line.rstrip())
                line = ""
                continue
            lines.append((line + piece[:max(k, 1)]).rstrip())
            line, piece = "", piece[max(k, 1):]
        if display_width(line + piece) > columns and line:
            lines.append(line.rstrip())
            line = ""
        line += piece
    if line or not lines:
        lines.append(line.rstrip())
    return "\n".join(lines)


__all__ = ["display_width", "wrap_cell"]
