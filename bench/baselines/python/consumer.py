#!/usr/bin/env python3
"""The order-summary projection as a careful Python user writes it by hand.

confluent-kafka (librdkafka) in, SQLite (stdlib sqlite3) or PostgreSQL (psycopg 3) out.
One database transaction per poll batch, then the batch's offsets committed to Kafka
synchronously: at-least-once, like weir. The projection is the one of weir's Rust plugin
(plugins/order-summary/src/lib.rs), into the table pipelines/order-summary.toml declares,
created with the DDL and pragmas weir's sink uses (runtime/src/sink/sql/).

    consumer.py --brokers HOST:PORT --topic T --group G (--sqlite PATH | --postgres URL)
                --expect N [--idle-exit-ms 3000]

Stops once N events are applied and committed (exit 0), or after --idle-exit-ms without a
message (exit 1 if fewer than N were applied). Prints one JSON line on stdout:
{"consumer":"python","sink":...,"events":...,"first_fetch_unix_ms":...,"last_commit_unix_ms":...}
Everything else goes to stderr.
"""

import argparse
import json
import sqlite3
import sys
import time
from datetime import datetime, timedelta, timezone

from confluent_kafka import Consumer, KafkaError, TopicPartition

TABLE = "order_summaries"
# Declared order, as in pipelines/order-summary.toml.
COLUMNS = ["id", "user_id", "status", "total", "item_count", "created_at", "shipped_at"]
SQLITE_TYPES = ["TEXT", "TEXT", "TEXT", "NUMERIC", "INTEGER", "TEXT", "TEXT"]
PG_TYPES = ["text", "text", "text", "numeric", "bigint", "timestamptz", "timestamptz"]

# weir's batch policy for this pipeline: at most 1,000 events or 20 ms.
BATCH_MAX = 1000
BATCH_WAIT_S = 0.020
# Joining the group and the first fetch may take a few seconds on a fresh broker: the idle
# clock gives the first message at least this long.
FIRST_MESSAGE_GRACE_MS = 30_000

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def log(*args):
    print("python-consumer:", *args, file=sys.stderr, flush=True)


def now_ms():
    return time.time_ns() // 1_000_000


class Invalid(Exception):
    """An event the projection rejects (weir dead-letters it); the batch goes on."""


def rfc3339_ms(ts, msg):
    """The envelope's timestamp (RFC 3339 text or epoch milliseconds; the record's Kafka
    timestamp when absent) as RFC 3339 UTC text with milliseconds, as weir's SDK writes it."""
    if ts is None:
        dt = EPOCH + timedelta(milliseconds=max(msg.timestamp()[1], 0))
    elif isinstance(ts, int) and not isinstance(ts, bool):
        dt = EPOCH + timedelta(milliseconds=ts)
    elif isinstance(ts, str):
        try:
            dt = datetime.fromisoformat(ts)
        except ValueError:
            raise Invalid(f"timestamp {ts!r} is not RFC 3339") from None
        if dt.tzinfo is None:
            raise Invalid(f"timestamp {ts!r} has no UTC offset")
        dt = dt.astimezone(timezone.utc)
    else:
        raise Invalid(f"timestamp {ts!r} is neither RFC 3339 text nor milliseconds")
    # An aware UTC datetime's isoformat ends in "+00:00".
    return dt.isoformat(timespec="milliseconds")[:-6] + "Z"


def decode(msg):
    """(event type, data, created/shipped timestamp text) of one record."""
    try:
        envelope = json.loads(msg.value())
    except (TypeError, ValueError) as e:
        raise Invalid(f"not a JSON event envelope: {e}") from None
    if not isinstance(envelope, dict):
        raise Invalid("not a JSON event envelope")
    event_type = envelope.get("eventType")
    if not event_type:
        headers = dict(msg.headers() or [])
        event_type = (headers.get("event-type") or b"").decode()
        if not event_type:
            raise Invalid("event has no eventType")
    data = envelope.get("data")
    if data is None:
        data = envelope  # flat events: the whole body is the data
    return event_type, data, envelope.get("timestamp")


def order_id_of(data):
    if not isinstance(data, dict) or not isinstance(data.get("orderId"), str):
        raise Invalid("invalid event data: orderId must be a string")
    return data["orderId"]


def placed_row(data, timestamp):
    order_id = order_id_of(data)
    user_id = data.get("userId")
    if user_id is not None and not isinstance(user_id, str):
        raise Invalid("invalid event data: userId must be a string")
    items = data.get("items", [])
    if not isinstance(items, list):
        raise Invalid("invalid event data: items must be an array")
    total = data["total"] if "total" in data else data.get("totalAmount")  # OrderCreated: totalAmount
    if isinstance(total, bool) or not isinstance(total, (int, float)):
        raise Invalid("invalid event data: total must be a number")
    return [order_id, user_id, "pending", float(total), len(items), timestamp, None]


class SqliteSink:
    """WAL, synchronous=NORMAL, one transaction per batch, upserts by prepared statement."""

    name = "sqlite"

    def __init__(self, path):
        # isolation_level=None: we say BEGIN and COMMIT ourselves.
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        cols = ", ".join(f'"{c}" {t}' for c, t in zip(COLUMNS, SQLITE_TYPES))
        self.db.execute(f'CREATE TABLE IF NOT EXISTS "{TABLE}" ({cols}, PRIMARY KEY ("id"))')
        names = ", ".join(f'"{c}"' for c in COLUMNS)
        marks = ", ".join(f"?{i}" for i in range(1, len(COLUMNS) + 1))
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in COLUMNS)
        self.upsert = (
            f'INSERT INTO "{TABLE}" ({names}) VALUES ({marks}) ON CONFLICT ("id") DO UPDATE SET {updates}'
        )
        self.select = f'SELECT {names} FROM "{TABLE}" WHERE "id" IN (SELECT value FROM json_each(?1))'

    def fetch(self, ids):
        rows = self.db.execute(self.select, (json.dumps(ids),)).fetchall()
        return {r[0]: list(r) for r in rows}

    def write(self, rows):
        self.db.execute("BEGIN")
        try:
            self.db.executemany(self.upsert, rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise


class PostgresSink:
    """One set-based upsert per batch (INSERT ... SELECT FROM unnest ... ON CONFLICT),
    values sent as text arrays and cast to the column types, in one transaction."""

    name = "postgres"

    def __init__(self, url):
        import psycopg  # only needed for this sink

        # Autocommit for the one read per batch; writes in an explicit transaction.
        self.db = psycopg.connect(url, autocommit=True)
        cols = ", ".join(f'"{c}" {t}' for c, t in zip(COLUMNS, PG_TYPES))
        with self.db.transaction():
            self.db.execute(f'CREATE TABLE IF NOT EXISTS "{TABLE}" ({cols}, PRIMARY KEY ("id"))')
        names = ", ".join(f'"{c}"' for c in COLUMNS)
        casts = ", ".join(f'u."{c}"::{t}' for c, t in zip(COLUMNS, PG_TYPES))
        arrays = ", ".join(["%s::text[]"] * len(COLUMNS))
        updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in COLUMNS)
        self.upsert = (
            f'INSERT INTO "{TABLE}" ({names}) SELECT {casts} FROM unnest({arrays}) AS u({names}) '
            f'ON CONFLICT ("id") DO UPDATE SET {updates}'
        )
        as_text = ", ".join(f'"{c}"::text' for c in COLUMNS)
        self.select = f'SELECT {as_text} FROM "{TABLE}" WHERE "id" = ANY(%s::text[])'

    def fetch(self, ids):
        rows = self.db.execute(self.select, (ids,)).fetchall()
        return {r[0]: list(r) for r in rows}

    def write(self, rows):
        columns = [[None if v is None else str(v) for v in col] for col in zip(*rows)]
        with self.db.transaction():
            self.db.execute(self.upsert, columns)


def project(batch, sink):
    """Applies the projection to one poll batch: (rows to upsert, events rejected).

    Events are applied in order, each seeing the batch's earlier writes first, then the
    database (read once per batch for the orders shipped but not placed in the batch)."""
    decoded = []
    placed_here = set()
    missing = set()
    for msg in batch:
        try:
            event_type, data, ts = decode(msg)
            if event_type in ("OrderPlaced", "OrderCreated"):
                row = placed_row(data, rfc3339_ms(ts, msg))
                placed_here.add(row[0])
                decoded.append((msg, row, None))
            elif event_type == "OrderShipped":
                order_id = order_id_of(data)
                if order_id not in placed_here:
                    missing.add(order_id)
                decoded.append((msg, None, (order_id, rfc3339_ms(ts, msg))))
            # Anything else is not routed to this projection: ignored.
        except Invalid as e:
            log(f"rejected {msg.topic()}/{msg.partition()}@{msg.offset()}: {e}")
            decoded.append((msg, None, None))
    stored = sink.fetch(list(missing)) if missing else {}
    rows = {}  # the batch's writes by order id
    rejected = 0
    for msg, placed, shipped in decoded:
        if placed is not None:
            rows[placed[0]] = placed
        elif shipped is not None:
            order_id, ts = shipped
            row = rows.get(order_id) or stored.get(order_id)
            if row is None:
                log(f"rejected {msg.topic()}/{msg.partition()}@{msg.offset()}: OrderShipped for unknown order {order_id}")
                rejected += 1
                continue
            row = list(row)
            row[2] = "shipped"
            row[6] = ts
            rows[order_id] = row
        else:
            rejected += 1
    return list(rows.values()), rejected


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--brokers", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--group", required=True)
    sink_arg = p.add_mutually_exclusive_group(required=True)
    sink_arg.add_argument("--sqlite", metavar="PATH")
    sink_arg.add_argument("--postgres", metavar="URL")
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--idle-exit-ms", type=int, default=3000)
    args = p.parse_args()

    sink = SqliteSink(args.sqlite) if args.sqlite else PostgresSink(args.postgres)
    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            "group.id": args.group,
            "client.id": "weir-bench-python",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            # tansu holds every fetch for the full max-wait: the same settings as weir.
            "fetch.wait.max.ms": 10,
            "fetch.queue.backoff.ms": 10,
        }
    )
    consumer.subscribe([args.topic])
    log(f"consuming {args.topic} as {args.group} into {sink.name}, expecting {args.expect} events")

    applied = rejected = batches = 0
    first_fetch = last_commit = None
    last_message = time.monotonic()
    try:
        while applied < args.expect:
            batch = consumer.consume(num_messages=BATCH_MAX, timeout=BATCH_WAIT_S)
            messages = []
            for m in batch:
                err = m.error()
                if err is None:
                    messages.append(m)
                elif err.code() != KafkaError._PARTITION_EOF:
                    log(f"consumer error: {err}")
                    if err.fatal():
                        raise SystemExit(2)
            if not messages:
                grace = args.idle_exit_ms if first_fetch else max(args.idle_exit_ms, FIRST_MESSAGE_GRACE_MS)
                if (time.monotonic() - last_message) * 1000 > grace:
                    log(f"idle for {grace} ms with {applied} of {args.expect} events applied: giving up")
                    break
                continue
            if first_fetch is None:
                first_fetch = now_ms()
            last_message = time.monotonic()

            rows, bad = project(messages, sink)
            if rows:
                sink.write(rows)
            next_offsets = {}
            for m in messages:
                next_offsets[(m.topic(), m.partition())] = m.offset() + 1
            committed = consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in next_offsets.items()], asynchronous=False
            )
            failed = [tp for tp in committed or [] if tp.error is not None]
            if failed:
                raise RuntimeError(f"offset commit failed: {failed}")
            last_commit = now_ms()
            applied += len(messages)
            rejected += bad
            batches += 1
    finally:
        consumer.close()
    log(f"{applied} events in {batches} batches ({rejected} rejected)")
    print(
        json.dumps(
            {
                "consumer": "python",
                "sink": sink.name,
                "events": applied,
                "first_fetch_unix_ms": first_fetch,
                "last_commit_unix_ms": last_commit,
            },
            separators=(",", ":"),
        ),
        flush=True,
    )
    return 0 if applied >= args.expect else 1


if __name__ == "__main__":
    sys.exit(main())
