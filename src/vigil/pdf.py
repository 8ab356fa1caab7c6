"""HTML to PDF for every Vigil document (case files, impact assessments, oversight reports).

One place decides how PDFs are made, so all documents share fonts, page size and margins, and
the same page-break rules: a table's header row (its ``<thead>``) repeats on every page the table
runs over and never stays alone at a page bottom, a row is never cut in two, and a heading stays
with what follows it.
"""

from __future__ import annotations

from pathlib import Path

PAGE_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm;
        @bottom-right { content: "page " counter(page) " of " counter(pages); font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; }
thead { display: table-header-group; }
tr, figure { break-inside: avoid; }
h1, h2, h3, caption { break-after: avoid; }
"""


def html_to_pdf(html: str, base_url: str | Path | None = None) -> bytes:
    """Render an HTML document (with inline or data-URI images) to PDF bytes with WeasyPrint."""
    from weasyprint import CSS, HTML

    return HTML(string=html, base_url=str(base_url) if base_url else None).write_pdf(
        stylesheets=[CSS(string=PAGE_CSS)]
    )
