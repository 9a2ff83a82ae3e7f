"""Product rows of deals and leads (``crm.deal.productrows.*``): validation, prices, wire form."""

from __future__ import annotations

from typing import Any

from b24kit.emulator.errors import error_core
from b24kit.emulator.query import flag, php_float, php_int

from .values import number

OWNER_TYPES = {"deal": "D", "lead": "L"}


def build_row(owner_type: str, owner_id: int, raw: dict[str, Any]) -> dict[str, Any]:
    """A stored product row from ``crm.deal.productrows.set`` input, with the documented defaults.

    ``PRICE`` is the final unit price (after discount, with tax); the other prices follow from
    it: ``PRICE_EXCLUSIVE`` (after discount, without tax), ``PRICE_NETTO`` (before discount,
    without tax) and ``PRICE_BRUTTO`` (before discount, with tax).
    """
    discount_type = php_int(raw.get("DISCOUNT_TYPE_ID", 2)) or 2
    has_rate = raw.get("DISCOUNT_RATE") not in (None, "")
    has_sum = raw.get("DISCOUNT_SUM") not in (None, "")
    if "DISCOUNT_TYPE_ID" in raw and discount_type == 2 and not has_rate:
        raise error_core(
            "Discount Rate (DISCOUNT_RATE) is required if Percentage Discount Type (DISCOUNT_TYPE_ID)"
            " is defined<br>"
        )
    rate = php_float(raw.get("DISCOUNT_RATE", 0))
    if discount_type == 2 and rate >= 100 and not has_sum:
        raise error_core(
            "Discount Sum (DISCOUNT_SUM) is required if Percentage Discount Type (DISCOUNT_TYPE_ID) is"
            " defined and Discount Rate (DISCOUNT_RATE) is 100%<br>"
        )
    if discount_type == 1 and not has_sum:
        raise error_core(
            "Discount Sum (DISCOUNT_SUM) is required if Monetary Discount Type (DISCOUNT_TYPE_ID)"
            " is defined<br>"
        )
    price = php_float(raw.get("PRICE", 0))
    quantity = php_float(raw["QUANTITY"]) if raw.get("QUANTITY") not in (None, "") else 1.0
    tax_rate = None if raw.get("TAX_RATE") in (None, "") else php_float(raw["TAX_RATE"])
    exclusive = round(price / (1 + (tax_rate or 0) / 100), 2)
    if has_sum:
        discount_sum = php_float(raw["DISCOUNT_SUM"])
    else:
        discount_sum = round(exclusive * rate / (100 - rate), 2) if discount_type == 2 and rate else 0.0
    if discount_type == 1 and not has_rate:
        netto_for_rate = exclusive + discount_sum
        rate = round(discount_sum / netto_for_rate * 100, 2) if netto_for_rate else 0.0
    netto = round(exclusive + discount_sum, 2)
    product_id = php_int(raw.get("PRODUCT_ID", 0))
    return {
        "OWNER_ID": owner_id,
        "OWNER_TYPE": owner_type,
        "PRODUCT_ID": product_id,
        "PRODUCT_NAME": str(raw.get("PRODUCT_NAME") or ""),
        "PRICE": price,
        "PRICE_EXCLUSIVE": exclusive,
        "PRICE_NETTO": netto,
        "PRICE_BRUTTO": round(netto * (1 + (tax_rate or 0) / 100), 2),
        "QUANTITY": quantity,
        "DISCOUNT_TYPE_ID": discount_type,
        "DISCOUNT_RATE": rate,
        "DISCOUNT_SUM": discount_sum,
        "TAX_RATE": tax_rate,
        "TAX_INCLUDED": flag(raw.get("TAX_INCLUDED", "N")),
        "MEASURE_CODE": php_int(raw.get("MEASURE_CODE", 0)),
        "MEASURE_NAME": str(raw.get("MEASURE_NAME") or ""),
        "SORT": php_int(raw.get("SORT", 0)),
    }


def render_row(row: dict[str, Any]) -> dict[str, Any]:
    """The ``productrows.get`` wire form: string ids, native numbers, ``PRICE_ACCOUNT`` a string."""
    return {
        "ID": str(row["ID"]),
        "OWNER_ID": str(row["OWNER_ID"]),
        "OWNER_TYPE": row["OWNER_TYPE"],
        "PRODUCT_ID": row["PRODUCT_ID"],
        "PRODUCT_NAME": row["PRODUCT_NAME"],
        "ORIGINAL_PRODUCT_NAME": row["PRODUCT_NAME"],
        "PRODUCT_DESCRIPTION": None,
        "PRICE": number(row["PRICE"]),
        "PRICE_EXCLUSIVE": number(row["PRICE_EXCLUSIVE"]),
        "PRICE_NETTO": number(row["PRICE_NETTO"]),
        "PRICE_BRUTTO": number(row["PRICE_BRUTTO"]),
        "PRICE_ACCOUNT": f"{row['PRICE']:.2f}",
        "QUANTITY": number(row["QUANTITY"]),
        "DISCOUNT_TYPE_ID": row["DISCOUNT_TYPE_ID"],
        "DISCOUNT_RATE": number(row["DISCOUNT_RATE"]),
        "DISCOUNT_SUM": number(row["DISCOUNT_SUM"]),
        "TAX_RATE": None if row["TAX_RATE"] is None else number(row["TAX_RATE"]),
        "TAX_INCLUDED": row["TAX_INCLUDED"],
        "CUSTOMIZED": "Y",
        "MEASURE_CODE": row["MEASURE_CODE"],
        "MEASURE_NAME": row["MEASURE_NAME"],
        "SORT": row["SORT"],
        "XML_ID": None,
        "TYPE": 1,
        "STORE_ID": 0,
    }
