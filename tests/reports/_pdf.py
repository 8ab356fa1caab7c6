"""Checks on rendered PDFs with poppler: pages to PNG (not blank) and text out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image


def pdf_pages(pdf: bytes, tmp: Path, dpi: int = 40) -> list[Path]:
    src = tmp / "doc.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(src), str(tmp / "page")], check=True)
    return sorted(tmp.glob("page*.png"))


def ink(png: Path) -> float:
    """Share of pixels that are not (near) white."""
    a = np.asarray(Image.open(png).convert("L"), dtype=float)
    return float((a < 235).mean())


def pdf_text(pdf: bytes, tmp: Path) -> str:
    src = tmp / "text.pdf"
    src.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(src), "-"], check=True, capture_output=True)
    # reading order, whitespace collapsed: table cells wrap across lines in the PDF
    return " ".join(out.stdout.decode("utf-8").split())
