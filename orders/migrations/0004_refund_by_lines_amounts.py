"""Refunds by lines recorded before their goods money was kept (their amount was 0, and so was the
order's refunded_amount): fill both in, refund by refund in the order they were made, exactly as
orders.services.refund_create now computes them (commissions.arithmetic.refunded_goods)."""
from django.db import migrations


def backfill(apps, schema_editor):
    from commissions import arithmetic as ar
    from fenxiao.currencies import minor_units

    Order = apps.get_model("orders", "Order")
    Refund = apps.get_model("orders", "Refund")
    RefundLine = apps.get_model("orders", "RefundLine")
    OrderLine = apps.get_model("orders", "OrderLine")
    for order in Order._base_manager.filter(refund_mode="lines").iterator(chunk_size=500):
        lines = list(OrderLine._base_manager.filter(order_id=order.pk))
        goods = {l.line_id: l.quantity * l.unit_price - l.discount - l.discount_share for l in lines}
        quantities = {l.line_id: l.quantity for l in lines}
        line_id_of = {l.pk: l.line_id for l in lines}
        refunded = {l.line_id: 0 for l in lines}
        before = ar.quantize_money(0, "down", minor_units(order.currency))
        for refund in Refund._base_manager.filter(order_id=order.pk, kind="lines").order_by("pk"):
            for rl in RefundLine._base_manager.filter(refund_id=refund.pk):
                refunded[line_id_of[rl.line_id]] += rl.quantity
            after = ar.refunded_goods(order.goods_total, goods, quantities, refunded, minor_units(order.currency))
            Refund._base_manager.filter(pk=refund.pk).update(amount=after - before)
            before = after
        Order._base_manager.filter(pk=order.pk).update(refunded_amount=before)


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_money_minor_units")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
