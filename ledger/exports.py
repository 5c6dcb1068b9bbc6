"""Files finance downloads from the ledger: the payout CSV of approved withdrawals (the staff API's
admin/withdrawals/export.csv and the console's "Export payout CSV" action write the same file).
Every cell goes through fenxiao.csvsafe (domain rules section 9: a cell a spreadsheet would run as
a formula is neutralised).
"""
import csv
import io

from fenxiao.csvsafe import safe_row
from fenxiao.currencies import money_str

PAYOUT_COLUMNS = ["withdrawal_id", "distributor_external_id", "distributor_name", "method", "account", "account_name",
                  "currency", "amount", "fee", "transfer_amount", "requested_at", "approved_at"]


def payout_csv(withdrawals) -> str:
    """CSV of approved withdrawals for finance: who, where to, amount, fee and what to transfer;
    cells a spreadsheet would run as formulas are neutralised (fenxiao.csvsafe, domain rules 9)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAYOUT_COLUMNS)
    for w in withdrawals:
        writer.writerow(safe_row([w.public_id, w.distributor.external_id, w.distributor.name, w.method, w.account, w.account_name,
                         w.currency, money_str(w.amount, w.currency), money_str(w.fee, w.currency),
                         money_str(w.transfer_amount, w.currency), w.requested_at.isoformat(),
                         w.decided_at.isoformat() if w.decided_at else ""]))
    return out.getvalue()
