"""The reports as files: the summary as CSV, a monthly statement (对账单) as CSV and as PDF.

Each renders the dict its selector returns (reports.selectors), so a file shows exactly what the
JSON answer shows. CSV cells go through fenxiao.csvsafe (domain rules section 9: a cell starting
with =, +, -, @, tab or carriage return is neutralised; plain numbers stay). The PDF embeds the
TrueType fonts shipped in fenxiao/fonts (DejaVu Sans, with Droid Sans Fallback for the CJK glyphs,
each subset to the glyphs used), so Chinese names render on any machine, and its text can be
extracted (copied, searched).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from django.utils.translation import gettext as _

from fenxiao.csvsafe import safe_row

FONTS = Path(__file__).resolve().parent.parent / "fenxiao" / "fonts"
#: Latin and most alphabets; the CJK font fills in the glyphs it lacks (it has no Latin letters).
FONT = FONTS / "DejaVuSans.ttf"
CJK_FONT = FONTS / "DroidSansFallbackFull.ttf"
LEVELS = ("1", "2", "3")


def _csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(safe_row(row))
    return out.getvalue()


SUMMARY_COLUMNS = (
    "start", "end", "orders", "sales", "refunded_sales", "net_sales", "gmv", "refunded_gmv", "net_gmv",
    *(f"level_{lv}_{k}" for lv in LEVELS for k in ("accrued", "reversed", "net")),
    "commission_accrued", "commission_reversed", "commission_net", "commission_settled", "bonuses",
    "new_distributors", "active_distributors", "withdrawals_paid", "withdrawal_fees",
)


def _summary_row(figures: dict) -> list:
    row = [figures["start"], figures["end"], figures["orders"]]
    row += [figures[k] for k in ("sales", "refunded_sales", "net_sales", "gmv", "refunded_gmv", "net_gmv")]
    row += [figures["commission_by_level"][lv][k] for lv in LEVELS for k in ("accrued", "reversed", "net")]
    row += [figures["commission"][k] for k in ("accrued", "reversed", "net")]
    row += [figures[k] for k in ("commission_settled", "bonuses", "new_distributors", "active_distributors",
                                 "withdrawals_paid", "withdrawal_fees")]
    return ["" if v is None else v for v in row]


def summary_csv(data: dict) -> str:
    """The summary (reports.selectors.summary) as CSV: a header row (SUMMARY_COLUMNS), one row per
    bucket, then the `total` row (its `start` column reads "total"); amounts in the tenant currency
    with its places; a figure that is null under a channel filter is an empty cell."""
    rows = [SUMMARY_COLUMNS]
    rows += [_summary_row(b) for b in data["buckets"]]
    rows.append(["total", *_summary_row(data["total"])[1:]])
    return _csv(rows)


def _bucket_labels() -> dict:
    return {"frozen": _("frozen"), "available": _("available"), "held": _("in withdrawal"),
            "withdrawn": _("withdrawn"), "fees": _("withdrawal fees"), "total_earned": _("total earned")}


def _movement_labels() -> dict:
    return {
        "commission_accrued": _("commission accrued"), "commission_reversed": _("commission reversed (before settlement)"),
        "commission_clawed_back": _("commission clawed back (after settlement)"),
        "commission_settled": _("commission settled"), "bonuses": _("bonuses and prizes"),
        "withdrawals_requested": _("withdrawals requested"), "withdrawals_returned": _("withdrawals rejected (returned)"),
        "withdrawals_paid": _("withdrawals paid (transferred)"), "withdrawal_fees": _("withdrawal fees"),
    }


def _kind_labels() -> dict:
    return {"accrual": _("commission accrued"), "reversal": _("commission reversed"), "clawback": _("commission clawed back"),
            "settlement": _("commission settled"), "withdrawal_hold": _("withdrawal requested"),
            "withdrawal_return": _("withdrawal rejected"), "withdrawal_paid": _("withdrawal paid"),
            "fee": _("withdrawal fee"), "bonus": _("bonus or prize"), "adjustment": _("adjustment")}


BUCKETS = ("frozen", "available", "held", "withdrawn", "fees", "total_earned")
MOVEMENTS = ("commission_accrued", "commission_reversed", "commission_clawed_back", "commission_settled", "bonuses",
             "withdrawals_requested", "withdrawals_returned", "withdrawals_paid", "withdrawal_fees")
ENTRY_COLUMNS = ("at", "kind", "amount", "level", "order_external_id", "refund_external_id", "withdrawal_id", "memo")


def statement_csv(data: dict) -> str:
    """A statement (reports.selectors.statement) as CSV, in four blocks separated by empty rows:
    who and which month (key, value rows); the balances (`balance`, then the buckets, rows
    `opening` and `closing`); the movements (`movement`, `amount`, with the adjustments per bucket
    as `adjustment_<bucket>`) and the commission per level (`level_<n>_accrued` ...); the entries
    (ENTRY_COLUMNS). Codes, not labels: the file is read by programs as much as by people."""
    rows = [["distributor_external_id", data["distributor_external_id"]], ["name", data["name"]],
            ["month", data["month"]], ["currency", data["currency"]], ["timezone", data["timezone"]],
            ["from", data["from"]], ["to", data["to"]], ["closed", "true" if data["closed"] else "false"], []]
    rows.append(["balance", *BUCKETS])
    rows.append(["opening", *(data["opening"][b] for b in BUCKETS)])
    rows.append(["closing", *(data["closing"][b] for b in BUCKETS)])
    rows += [[], ["movement", "amount"]]
    rows += [[k, data["movements"][k]] for k in MOVEMENTS]
    rows += [[f"adjustment_{b}", data["movements"]["adjustments"][b]] for b in BUCKETS]
    rows += [[f"level_{lv}_{k}", data["commission_by_level"][lv][k]] for lv in LEVELS for k in ("accrued", "reversed", "net")]
    rows += [[], list(ENTRY_COLUMNS)]
    rows += [["" if e[c] is None else e[c] for c in ENTRY_COLUMNS] for e in data["entries"]]
    return _csv(rows)


def statement_pdf(data: dict) -> bytes:
    """A statement (reports.selectors.statement) as an A4 PDF: the distributor and the month, the
    opening and closing balances, the movements, the commission per level and the month's
    entries, labels in the active language, amounts in the tenant currency. The text is real
    text in the embedded CJK font (a Chinese name renders and can be extracted)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"{_('Statement')} {data['distributor_external_id']} {data['month']}")
    pdf.set_creator("fenxiao")
    pdf.add_font("sans", fname=str(FONT))
    pdf.add_font("cjk", fname=str(CJK_FONT))
    pdf.set_fallback_fonts(["cjk"])
    pdf.set_font("sans", size=10)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    heading = FontFace(emphasis="", fill_color=(235, 235, 235))

    def line(text: str, size: int = 10, gap: float = 6) -> None:
        pdf.set_font("sans", size=size)
        pdf.cell(0, gap, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("sans", size=10)

    currency = data["currency"]
    line(_("Monthly statement %(month)s") % {"month": data["month"]}, size=16, gap=10)
    line(f"{data['name']} ({data['distributor_external_id']})", size=13, gap=8)
    line(_("From %(start)s to %(end)s (%(timezone)s); amounts in %(currency)s.")
         % {"start": data["from"], "end": data["to"], "timezone": data["timezone"], "currency": currency})
    if not data["closed"]:
        line(_("The month is not over: this statement runs to now."))
    pdf.ln(2)

    buckets = _bucket_labels()
    with pdf.table(col_widths=(40, 25, 25, 25, 25, 25, 25), text_align=("LEFT", *["RIGHT"] * 6), headings_style=heading,
                   line_height=6) as table:
        row = table.row()
        for text in [_("balance"), *(buckets[b] for b in BUCKETS)]:
            row.cell(text)
        for key, label in (("opening", _("opening")), ("closing", _("closing"))):
            row = table.row()
            row.cell(label)
            for b in BUCKETS:
                row.cell(data[key][b])
    pdf.ln(4)

    moves = _movement_labels()
    with pdf.table(col_widths=(90, 40), width=130, align="LEFT", text_align=("LEFT", "RIGHT"), headings_style=heading,
                   line_height=6) as table:
        row = table.row()
        row.cell(_("movement"))
        row.cell(_("amount"))
        for k in MOVEMENTS:
            row = table.row()
            row.cell(moves[k])
            row.cell(data["movements"][k])
        for b in BUCKETS:
            value = data["movements"]["adjustments"][b]
            if value.lstrip("-").strip("0.") != "":
                row = table.row()
                row.cell(_("adjustment: %(bucket)s") % {"bucket": buckets[b]})
                row.cell(value)
    pdf.ln(4)

    with pdf.table(col_widths=(30, 30, 30, 30), width=120, align="LEFT", text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
                   headings_style=heading,
                   line_height=6) as table:
        row = table.row()
        for text in (_("level"), _("accrued"), _("reversed"), _("net")):
            row.cell(text)
        for lv in LEVELS:
            row = table.row()
            row.cell(lv)
            for k in ("accrued", "reversed", "net"):
                row.cell(data["commission_by_level"][lv][k])
    pdf.ln(4)

    kinds = _kind_labels()
    line(_("Entries (%(n)d)") % {"n": len(data["entries"])}, size=12, gap=8)
    if data["entries"]:
        with pdf.table(col_widths=(38, 38, 22, 12, 40, 40), text_align=("LEFT", "LEFT", "RIGHT", "CENTER", "LEFT", "LEFT"),
                       headings_style=heading, line_height=5) as table:
            row = table.row()
            for text in (_("time"), _("entry"), _("amount"), _("level"), _("order"), _("note")):
                row.cell(text)
            for e in data["entries"]:
                row = table.row()
                row.cell(e["at"][:19].replace("T", " "))
                row.cell(kinds.get(e["kind"], e["kind"]))
                row.cell(e["amount"])
                row.cell("" if e["level"] is None else str(e["level"]))
                row.cell(e["order_external_id"] or (f"#{e['withdrawal_id']}" if e["withdrawal_id"] else ""))
                row.cell(e["memo"] or e["refund_external_id"] or "")
    return bytes(pdf.output())
