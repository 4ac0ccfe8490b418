"""The committee report's formats, all drawn from the one data dict of
``reports.document.build_report`` (or a published snapshot of it):

* ``body_html``: the report's markup, shown inside the site's pages;
* ``standalone_html``: a self-contained HTML file with the print styles (``--format html``);
* ``pdf``: that file through WeasyPrint (A4, page numbers, DRAFT on every page of a draft);
* ``docx``: a Word document (python-docx) with the same sections, tables and charts (PNG
  from the same renderer), DRAFT in the header of every section of a draft.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from reports import charts

DRAFT_HEADER = "DRAFT: not for publication. Includes figures not yet signed off."


# WeasyPrint reports every CSS property it ignores at WARNING: noise in a server's log.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def body_html(report: dict[str, Any], *, chart_format: str = "svg") -> str:
    """The report's markup; charts inline as SVG (pages) or as PNG pictures (PDF)."""
    return render_to_string(
        "reports/document/body.html", {"report": report, "chart_format": chart_format}
    )


def standalone_html(report: dict[str, Any], *, chart_format: str = "svg") -> str:
    """A complete, self-contained HTML document with the print styles."""
    return render_to_string(
        "reports/document/standalone.html",
        {"report": report, "body": mark_safe(body_html(report, chart_format=chart_format))},  # noqa: S308
    )


def pdf(report: dict[str, Any]) -> bytes:
    """The PDF, from the report's data (a published report's snapshot gives the same PDF).

    Charts go in as PNG pictures from the same renderer: WeasyPrint draws SVG in Python,
    which costs a second or more per chart.
    """
    return weasyprint().HTML(string=standalone_html(report, chart_format="png"), base_url=None).write_pdf()


class PdfUnavailable(RuntimeError):
    """WeasyPrint's system libraries (Pango and friends) are not installed."""


PDF_LIBRARIES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 fonts-dejavu-core"


def weasyprint():
    """WeasyPrint, imported only when a PDF is wanted: it loads Pango through the system's
    libraries, which a web page never needs, and which a machine may lack."""
    try:
        import weasyprint as module
    except OSError as exc:
        raise PdfUnavailable(
            f"PDF output needs WeasyPrint's system libraries: apt-get install -y {PDF_LIBRARIES}"
        ) from exc
    return module


# --- Word ----------------------------------------------------------------------------------


def _page_number_field(paragraph) -> None:
    """A PAGE field, so Word numbers the pages itself."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _alt_text(run, title: str, description: str) -> None:
    """Alternative text on a picture (Word's "Alt Text"), for screen readers."""
    for doc_pr in run._r.xpath(".//wp:docPr"):
        doc_pr.set("title", title)
        doc_pr.set("descr", description)


def _table(document, caption: str, header: list[str] | None, rows: list[list[str]]):
    from docx.shared import Pt

    document.add_paragraph(caption, style="Caption")
    columns = len(header) if header else max(len(r) for r in rows)
    table = document.add_table(rows=0, cols=columns)
    table.style = "Table Grid"
    if header:
        cells = table.add_row().cells
        for cell, text in zip(cells, header, strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=False):
            cell.text = text
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8.5)
    document.add_paragraph()
    return table


def docx(report: dict[str, Any]) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    document.core_properties.title = (
        f"{report['contract']['provider']} performance update, {report['month_words']}"
    )
    document.core_properties.author = report["contract"]["commissioner"]

    for section in document.sections:
        section.left_margin = section.right_margin = Cm(2)
        header = section.header.paragraphs[0]
        header.text = (
            DRAFT_HEADER if report["draft"]
            else f"{report['contract']['name']}: performance update, {report['month_words']}"
        )
        if report["draft"]:
            for run in header.runs:
                run.bold = True
                run.font.color.rgb = RGBColor(0xB3, 0x26, 0x1E)
        footer = section.footer.paragraphs[0]
        footer.text = "Page "
        footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _page_number_field(footer)

    texts = report["texts"]
    p = document.add_paragraph()
    p.add_run(texts["committee"]["text"].upper()).bold = True
    document.add_heading(
        f"{texts['report_of']['text']}: {report['contract']['provider']} performance update, "
        f"{report['month_words']}",
        level=0,
    )
    document.add_paragraph(
        f"{report['contract']['name']}. Commissioned by {report['contract']['commissioner']} "
        f"from {report['contract']['provider']}. Figures up to the end of {report['month_words']}"
        + (", including draft figures." if report["draft"] else ": official figures only.")
    )

    def numbered(section_number: int, key: str, heading: str, *, numbers: bool = True) -> None:
        document.add_heading(f"{section_number}. {heading}", level=1)
        for i, text in enumerate(texts[key]["paragraphs"], start=1):
            document.add_paragraph(f"{section_number}.{i} {text}" if numbers else text)

    numbered(1, "purpose", "Purpose of the report")
    numbered(2, "background", "Background")

    document.add_heading("3. Current position", level=1)
    for para in report["intro"]:
        document.add_paragraph(f"{para['number']} {para['text']}")
    document.add_paragraph(
        "Summary for " + report["month_words"] + ": "
        + "; ".join(f"{c['words']}: {c['count']}" for c in report["counts"]) + "."
    )

    for m in report["measures"]:
        document.add_heading(f"{m['number']} {m['kind_words']} {m['code']}: {m['title']}", level=2)
        for line in m["heading_lines"]:
            document.add_paragraph().add_run(line).bold = True
        run = document.add_paragraph().add_run()
        run.add_picture(io.BytesIO(charts.history_png(m["chart"])), width=Cm(16))
        _alt_text(run, m["chart"]["title"], m["chart"]["desc"])
        if m["figures"]:
            _table(
                document,
                f"{m['code']}: figures for {report['month_words']}",
                None,
                [[f["label"], f["value"]] for f in m["figures"]] + [["Verdict", m["verdict_words"]]],
            )
        else:
            document.add_paragraph(
                f"No figure has been reported for this measure up to the end of {report['month_words']}."
            )
        spc = m.get("spc")  # reports published before SPC have none
        if spc:
            variation = spc["variation_text"]
            if spc["charted"]:
                variation = f"{spc['variation_words']}. {variation}"
            rows = [["Variation", variation]]
            if spc["charted"] and spc["variation"] != "insufficient_data":
                rows += [
                    ["Assurance against the target", f"{spc['assurance_words']}. {spc['assurance_text']}"],
                    ["Assurance against the tolerance", f"{spc['tolerance_words']}. {spc['tolerance_text']}"],
                ]
                if spc["limits"]:
                    rows.append(["Process limits", spc["limits"]])
                rows += [
                    [f"Signal: {s['rule_words'].lower()}", s["text"]]
                    for s in spc["signals"]
                    if s.get("recent", True)
                ]
            _table(document, f"{m['code']}: statistical process control (Making Data Count)", None, rows)
        if len(m["history"]) > 1:
            _table(
                document,
                f"{m['code']}: recent figures",
                ["Period", "Figure", "Verdict"],
                [
                    [
                        h["period"] + (f" (as at {h['as_at']})" if h["as_at"] else ""),
                        h["value"] + (" (draft)" if h["draft"] else ""),
                        h["verdict"],
                    ]
                    for h in m["history"]
                ],
            )
        if m["note"]:
            document.add_paragraph(f"About this figure: {m['note']}")
        if m["target_change"]:
            document.add_paragraph(f"Target changed: {m['target_change']}")
        if m["narrative"]:
            document.add_paragraph(m["narrative"])
        if m["no_data_reason"]:
            document.add_paragraph(f"Why there is no figure: {m['no_data_reason']}")
        if m["commentary"]["state"] != "drafted":
            document.add_paragraph(m["commentary"]["text"])
        elif report["draft"]:
            p = document.add_paragraph()
            p.add_run("Drafted from the figures, not yet reviewed: ").bold = True
            p.add_run(m["commentary"]["text"])
        if m["comparability_note"]:
            document.add_paragraph(f"Comparability: {m['comparability_note']}")
        document.add_paragraph().add_run(m["closing"]).bold = True

    retained = report["retained"]
    if retained["visible"] and retained.get("admissions"):
        a = retained["admissions"]
        document.add_heading(f"{a['number']} Admissions: % of first choice preference achieved", level=2)
        _table(
            document,
            f"Admissions: first choice preference achieved, {a['years'][0]} to {a['years'][-1]}",
            ["Measure", *a["years"], "Target", "Region", "England"],
            [[r["label"], *r["values"], r["target"], r["region"], r["england"]] for r in a["rows"]],
        )
        for text in a["sentences"] + a["notes"]:
            document.add_paragraph(text)
    if retained["visible"] and retained.get("ehe"):
        e = retained["ehe"]
        document.add_heading(f"{e['number']} Electively home educated", level=2)
        header = ["Measure", "Frequency"] + [
            f"{h['year']} {term}" for h in e["header"] for term in h["terms"]
        ]
        _table(
            document,
            "Elective home education by term and academic year",
            header,
            [[r["label"], r["frequency"], *r["cells"]] for r in e["rows"]],
        )
        for text in e["notes"]:
            document.add_paragraph(text)

    document.add_heading("4. Assurance and improvement activity", level=1)
    for group in report["assurance"]:
        document.add_heading(f"{group['number']} {group['code']}: {group['title']}", level=2)
        for action in group["actions"]:
            extra = "; ".join(
                x for x in (
                    f"owner: {action['owner']}" if action["owner"] else "",
                    f"due {action['due']}" if action["due"] else "",
                ) if x
            )
            document.add_paragraph(
                action["description"] + (f" ({extra})" if extra else ""), style="List Bullet"
            )
    if not report["assurance"]:
        document.add_paragraph(
            f"No assurance or improvement actions are recorded for {report['month_words']}."
        )

    numbered(5, "future", "Future developments")
    numbered(6, "recommendations", "Recommendations")
    numbered(7, "background_papers", "Background papers", numbers=False)

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
