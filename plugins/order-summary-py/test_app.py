"""Native tests of the plugin's logic: `python3 -m unittest` in this directory (no Wasm,
no broker). The same cases as the Rust twin's tests, plus the SDK's own behaviour."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "guest-sdk", "python"))

from weir_sdk import Error, rfc3339_from_ms  # noqa: E402
from weir_sdk.testing import TestEvent, TestHost  # noqa: E402

from app import handle  # noqa: E402

COLUMNS = ["id", "user_id", "status", "total", "item_count", "created_at", "shipped_at"]


def host():
    return TestHost().table("order_summaries", COLUMNS, ["id"])


def placed(order_id):
    return TestEvent(
        "OrderPlaced",
        {
            "orderId": order_id,
            "userId": "user-456",
            "items": [{"productId": "prod-789", "quantity": 2, "price": 29.99}],
            "total": 59.98,
        },
        timestamp_ms=1_774_864_800_000,
    )


class OrderSummary(unittest.TestCase):
    def test_placed_then_shipped_in_one_batch(self):
        h = host()
        shipped = TestEvent("OrderShipped", {"orderId": "ord-123"}, timestamp_ms=1_774_868_400_000)
        self.assertEqual(h.run(handle, [placed("ord-123"), shipped]), [None, None])
        self.assertEqual(
            h.row("order_summaries", "ord-123"),
            {
                "id": "ord-123",
                "user_id": "user-456",
                "status": "shipped",
                "total": 59.98,
                "item_count": 1,
                "created_at": "2026-03-30T10:00:00.000Z",
                "shipped_at": "2026-03-30T11:00:00.000Z",
            },
        )

    def test_order_created_shape_is_accepted(self):
        h = host()
        created = TestEvent(
            "OrderCreated", {"orderId": "ORD-12345", "userId": "USR-123", "totalAmount": 99.99, "items": []}
        )
        self.assertEqual(h.run(handle, [created]), [None])
        row = h.row("order_summaries", "ORD-12345")
        self.assertEqual(row["total"], 99.99)
        self.assertEqual(row["item_count"], 0)
        self.assertEqual(row["created_at"], "1970-01-01T00:00:00.000Z")
        self.assertIsNone(row["shipped_at"])

    def test_integer_total_is_a_float_and_user_is_optional(self):
        h = host()
        self.assertEqual(h.run(handle, [TestEvent("OrderPlaced", {"orderId": "o", "total": 60})]), [None])
        row = h.row("order_summaries", "o")
        self.assertIs(type(row["total"]), float)
        self.assertIsNone(row["user_id"])
        self.assertEqual(row["item_count"], 0)

    def test_shipping_an_unknown_order_fails_alone(self):
        h = host()
        results = h.run(handle, [TestEvent("OrderShipped", {"orderId": "nope"}), placed("ord-1")])
        self.assertIn("unknown order nope", results[0].message)
        self.assertFalse(results[0].retryable)
        self.assertIsNone(results[1])
        self.assertEqual(len(h.rows("order_summaries")), 1)

    def test_bad_data_is_an_error_not_a_crash(self):
        for data in ({"orderId": 5, "total": 1}, {"orderId": "x"}, {"orderId": "x", "total": "1"},
                     {"orderId": "x", "total": 1, "items": None}, {"orderId": "x", "total": True},
                     {"orderId": "x", "total": 1, "totalAmount": 2}, {"orderId": "x", "userId": 3, "total": 1},
                     [1, 2], b"{not json", b"NaN", b'{"orderId":"x","total":NaN}'):
            with self.subTest(data=data):
                h = host()
                result = h.run(handle, [TestEvent("OrderPlaced", data)])[0]
                self.assertIsNotNone(result)
                self.assertTrue(result.message.startswith("invalid event data"), result.message)
                self.assertEqual(h.rows("order_summaries"), [])

    def test_a_failed_event_leaves_no_writes_for_later_events(self):
        h = host()

        def broken(event, ctx):
            handle(event, ctx)
            if event.event_type == "OrderPlaced":
                raise RuntimeError("boom after the write")

        shipped = TestEvent("OrderShipped", {"orderId": "ord-9"})
        results = h.run(broken, [placed("ord-9"), shipped])
        self.assertEqual(results[0].message, "RuntimeError: boom after the write")
        self.assertIn("unknown order ord-9", results[1].message)
        self.assertEqual(h.rows("order_summaries"), [])

    def test_other_event_types_are_ignored(self):
        h = host()
        self.assertEqual(h.run(handle, [TestEvent("OrderCancelled", b"not even json")]), [None])


class Sdk(unittest.TestCase):
    """The SDK's behaviour that the plugin above does not reach."""

    def test_timestamps_match_the_rust_sdk(self):
        self.assertEqual(rfc3339_from_ms(0), "1970-01-01T00:00:00.000Z")
        self.assertEqual(rfc3339_from_ms(1_774_864_800_123), "2026-03-30T10:00:00.123Z")
        self.assertEqual(rfc3339_from_ms(951_782_400_000), "2000-02-29T00:00:00.000Z")
        self.assertEqual(rfc3339_from_ms(-1), "1969-12-31T23:59:59.999Z")

    def test_envelope_fields_are_decoded(self):
        seen = {}

        def spy(event, ctx):
            seen.update(
                type=event.event_type, id=event.id, ts=event.timestamp_ms, version=event.version,
                agg=event.aggregate_id, corr=event.correlation_id, key=event.key, raw=event.data_raw,
                data=event.data, origin=event.origin, meta=ctx.record_info(),
            )

        e = TestEvent("T", {"a": "é"}, timestamp_ms=-5, id="e1", version=3, aggregate_id="agg",
                      correlation_id=None, key="k")
        results = TestHost().run(spy, [TestEvent("Other", {}), e])
        self.assertEqual(results, [None, None])
        self.assertEqual(seen["type"], "T")
        self.assertEqual((seen["id"], seen["ts"], seen["version"]), ("e1", -5, 3))
        self.assertEqual((seen["agg"], seen["corr"], seen["key"]), ("agg", None, b"k"))
        self.assertEqual(seen["raw"], '{"a":"é"}'.encode())
        self.assertEqual(seen["data"], {"a": "é"})
        self.assertEqual(seen["origin"], 1)
        self.assertEqual(seen["meta"].offset, 1)

    def test_emit_log_delete_and_composite_keys(self):
        h = TestHost().table("pairs", ["a", "b", "doc", "flag"], ["a", "b"]).topic("out")

        def plugin(event, ctx):
            if event.event_type == "Put":
                ctx.upsert("pairs", {"a": "x", "b": 1, "doc": {"n": [1, 2.5, None]}, "flag": True})
                ctx.emit("out", "x", "Put", {"k": "ü", "n": 1})
                ctx.log("put x/1", level="debug")
            elif event.event_type == "Del":
                row = ctx.get("pairs", ("x", 1))
                assert row["doc"] == b'{"n":[1,2.5,null]}', row
                ctx.delete("pairs", ("x", 1))
                ctx.emit("out", None, "Del", b'{"raw":true}')
            elif event.event_type == "Bad":
                ctx.emit("nowhere", None, "X", {})

        self.assertEqual(h.run(plugin, [TestEvent("Put", {})]), [None])
        self.assertEqual(h.row("pairs", ("x", 1))["flag"], True)
        self.assertEqual(h.logs, [(3, "put x/1")])
        self.assertEqual(h.run(plugin, [TestEvent("Del", {}), TestEvent("Bad", {})])[1].message.split(" ")[0], "topic")
        self.assertEqual(h.rows("pairs"), [])
        self.assertEqual([(e.topic, e.key, e.event_type, e.raw) for e in h.emitted], [
            ("out", b"x", "Put", '{"k":"ü","n":1}'.encode()),
            ("out", None, "Del", b'{"raw":true}'),
        ])

    def test_schema_errors_fail_the_event(self):
        h = host()

        def plugin(event, ctx):
            if event.event_type == "A":
                ctx.upsert("nope", {})
            elif event.event_type == "B":
                ctx.upsert("order_summaries", {"id": "i", "colour": "red"})
            elif event.event_type == "C":
                ctx.get("order_summaries", ("a", "b"))
            elif event.event_type == "D":
                ctx.upsert("order_summaries", {"id": "i", "total": object()})
            elif event.event_type == "E":
                ctx.upsert("order_summaries", {"id": "i", "item_count": 1 << 64})
            elif event.event_type == "F":
                raise Error.retryable_error("database is busy")

        results = h.run(plugin, [TestEvent(t, {}) for t in "ABCDEF"])
        self.assertIn("table `nope` is not declared", results[0].message)
        self.assertIn("has no column `colour`", results[1].message)
        self.assertIn("primary key of 1 column(s), got 2", results[2].message)
        self.assertIn("unsupported value of type object", results[3].message)
        self.assertIn("does not fit in 64 bits", results[4].message)
        self.assertEqual((results[5].message, results[5].retryable), ("database is busy", True))
        self.assertEqual(h.rows("order_summaries"), [])


if __name__ == "__main__":
    unittest.main()
