"""The seeds' CQRS read model, in Python: ``OrderPlaced`` (or ``OrderCreated``) inserts a
row into ``order_summaries`` with status ``pending``; ``OrderShipped`` sets ``shipped`` and
``shipped_at``. The twin of the Rust plugin plugins/order-summary: same rows, same
failures (the data is checked as strictly as serde checks it there).
"""

from weir_sdk import Error, projection

_MISSING = object()


def _invalid(message):
    return Error(f"invalid event data: {message}")


def _kind(v):
    """What serde calls an unexpected value, in its words (``integer `5```...)."""
    t = type(v)
    if t is str:
        return "string " + _quote(v)
    if t is bool:
        return "boolean `%s`" % ("true" if v else "false")
    if t is int:
        return "integer `%d`" % v
    if t is float:
        return "floating point `%r`" % v
    return {dict: "map", list: "sequence", type(None): "null"}.get(t, t.__name__)


def _quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fields(data, what):
    if type(data) is not dict:
        raise _invalid(f"invalid type: {_kind(data)}, expected struct {what}")
    return data


def _text(d, field):
    """A required string field."""
    v = d.get(field, _MISSING)
    if type(v) is str:
        return v
    if v is _MISSING:
        raise _invalid(f"missing field `{field}`")
    raise _invalid(f"invalid type: {_kind(v)}, expected a string (field `{field}`)")


def _optional_text(d, field):
    """An optional string field: absent or null is None."""
    v = d.get(field)
    if v is None or type(v) is str:
        return v
    raise _invalid(f"invalid type: {_kind(v)}, expected a string (field `{field}`)")


def _total(d):
    """``total`` (OrderPlaced) or ``totalAmount`` (OrderCreated), as a float."""
    v = d.get("total", _MISSING)
    alias = d.get("totalAmount", _MISSING)
    if v is _MISSING:
        v = alias
    elif alias is not _MISSING:
        raise _invalid("duplicate field `total`")
    if type(v) is float:
        return v
    if type(v) is int:
        return float(v)
    if v is _MISSING:
        raise _invalid("missing field `total`")
    raise _invalid(f"invalid type: {_kind(v)}, expected f64 (field `total`)")


def _item_count(d):
    items = d.get("items", _MISSING)
    if items is _MISSING:
        return 0
    if type(items) is list:
        return len(items)
    raise _invalid(f"invalid type: {_kind(items)}, expected a sequence (field `items`)")


@projection
def handle(event, ctx):
    """Projects one order event into ``order_summaries``."""
    t = event.event_type
    if t == "OrderPlaced" or t == "OrderCreated":
        order = _fields(event.data, "OrderPlaced")
        ctx.upsert(
            "order_summaries",
            {
                "id": _text(order, "orderId"),
                "user_id": _optional_text(order, "userId"),
                "status": "pending",
                "total": _total(order),
                "item_count": _item_count(order),
                "created_at": event.timestamp_rfc3339(),
            },
        )
    elif t == "OrderShipped":
        order_id = _text(_fields(event.data, "OrderShipped"), "orderId")
        row = ctx.get("order_summaries", order_id)
        if row is None:
            raise Error(f"OrderShipped for unknown order {order_id}")
        row["status"] = "shipped"
        row["shipped_at"] = event.timestamp_rfc3339()
        ctx.upsert("order_summaries", row)
    # The pipeline routes only the types above; anything else is ignored on purpose.
