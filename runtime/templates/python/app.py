"""The {{name}} projection: one ``aggregates`` row per aggregate, with its last event type
and how many events it has seen. An event without ``aggregateId`` fails (and goes to the
dead-letter topic); the rest of its batch commits.

Build:      ./build.sh                 (-> plugin.wasm, then: weir test pipeline.toml)
Test natively (no Wasm, no broker, any python3 3.9+), in this directory:
            python3 -m unittest        (runs test_app.py)
"""

from weir_sdk import Error, projection


@projection
def handle(event, ctx):
    """Counts the event on its aggregate's row."""
    aggregate_id = event.aggregate_id
    if aggregate_id is None:
        raise Error("event has no aggregateId")
    row = ctx.get("aggregates", aggregate_id)
    events = row.get("events") if row is not None else None
    if type(events) is not int:
        events = 0
    ctx.upsert(
        "aggregates",
        {
            "id": aggregate_id,
            "last_event": event.event_type,
            "events": events + 1,
            "updated_at": event.timestamp_rfc3339(),
        },
    )
