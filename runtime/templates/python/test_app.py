"""Native tests of the projection: `python3 -m unittest` in this directory."""

import os
import sys
import unittest

# The weir Python SDK (guest-sdk/python); WEIR_SDK_DIR (guest-sdk/) overrides it.
sys.path.insert(0, os.path.join(os.environ.get("WEIR_SDK_DIR", "{{sdk}}"), "python"))

from weir_sdk.testing import TestEvent, TestHost  # noqa: E402

from app import handle  # noqa: E402


class Projection(unittest.TestCase):
    def test_counts_events_per_aggregate(self):
        host = TestHost().table("aggregates", ["id", "last_event", "events", "updated_at"], ["id"])
        placed = TestEvent("OrderPlaced", {"orderId": "o1"}, aggregate_id="o1", timestamp_ms=1_774_864_800_000)
        shipped = TestEvent("OrderShipped", {"orderId": "o1"}, aggregate_id="o1", timestamp_ms=1_774_868_400_000)
        orphan = TestEvent("OrderPlaced", {})
        results = host.run(handle, [placed, shipped, orphan])
        self.assertEqual(results[:2], [None, None])
        self.assertEqual(results[2].message, "event has no aggregateId")
        self.assertFalse(results[2].retryable)
        self.assertEqual(
            host.row("aggregates", "o1"),
            {"id": "o1", "last_event": "OrderShipped", "events": 2, "updated_at": "2026-03-30T11:00:00.000Z"},
        )
        self.assertEqual(len(host.rows("aggregates")), 1)


if __name__ == "__main__":
    unittest.main()
