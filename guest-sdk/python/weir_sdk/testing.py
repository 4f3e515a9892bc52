"""Test a handler natively, without Wasm or a broker.

:class:`TestHost` plays the host's part with an in-memory read model and keeps the host's
rules: one event's failure drops that event's writes and emits; later events of the batch
see earlier events' writes. Events are packed into the same 64-byte index the host sends,
and run through the same batch loop as inside the component, so the decoding is tested too.

    host = TestHost().table("orders", ["id", "total"], ["id"])
    results = host.run(handle, [TestEvent("OrderPlaced", {"orderId": "o1", "total": 5})])
    assert results == [None]
    assert host.row("orders", "o1") == {"id": "o1", "total": 5.0}
"""

import struct

from . import Error, RecordMeta, Schema, decode_json, encode_json, make_converter, run_batch

__all__ = ["TestHost", "TestEvent", "Emitted", "Failure", "pack_batch"]

_ABSENT = 0xFFFFFFFF
_ROW = struct.Struct("<IIqIHHIIIIIIIIII")  # the 64-byte index row of guest-sdk/wit/weir.wit


class TestEvent:
    """An input event for tests. ``data`` is a JSON-serialisable value, or raw JSON as
    bytes/str (to test invalid data). ``key`` is str or bytes."""

    def __init__(
        self,
        event_type,
        data,
        timestamp_ms=0,
        id=None,
        version=1,
        aggregate_id=None,
        correlation_id=None,
        key=None,
    ):
        self.event_type = event_type
        if isinstance(data, str):
            data = data.encode()
        elif not isinstance(data, (bytes, bytearray)):
            data = encode_json(data)
        self.data = bytes(data)
        self.timestamp_ms = timestamp_ms
        self.id = id
        self.version = version
        self.aggregate_id = aggregate_id
        self.correlation_id = correlation_id
        self.key = key.encode() if isinstance(key, str) else key


def pack_batch(events):
    """``(bytes, event_types, index)`` for ``events``, laid out as the host packs them."""
    buf = bytearray()
    types = []
    index = bytearray()

    def span(b):
        if b is None:
            return 0, _ABSENT
        if isinstance(b, str):
            b = b.encode()
        start = len(buf)
        buf.extend(b)
        return start, len(b)

    for origin, e in enumerate(events):
        if e.event_type not in types:
            types.append(e.event_type)
        i = span(e.id)
        a = span(e.aggregate_id)
        c = span(e.correlation_id)
        k = span(e.key)
        d = span(e.data)
        index += _ROW.pack(
            i[0], i[1], e.timestamp_ms, e.version, types.index(e.event_type), 0,
            a[0], a[1], c[0], c[1], k[0], k[1], d[0], d[1], origin, 0,
        )
    return bytes(buf), types, bytes(index)


class Emitted:
    """An event emitted by a handler under test; ``data`` is parsed, ``raw`` the bytes."""

    __slots__ = ("topic", "key", "event_type", "data", "raw")

    def __init__(self, topic, key, event_type, raw):
        self.topic = topic
        self.key = key
        self.event_type = event_type
        self.raw = raw
        self.data = decode_json(raw)

    def __repr__(self):
        return f"Emitted({self.topic!r}, {self.key!r}, {self.event_type!r}, {self.data!r})"


class Failure:
    """An event's failure as the host receives it."""

    __slots__ = ("message", "retryable")

    def __init__(self, message, retryable):
        self.message = message
        self.retryable = retryable

    def __repr__(self):
        return f"Failure({self.message!r}, retryable={self.retryable})"


class TestHost:
    """An in-memory stand-in for the weir host."""

    __test__ = False  # not a test class for pytest

    converter = make_converter(None, bool, int, float, str, bytes)

    def __init__(self):
        self._tables = []  # (name, columns, primary_key)
        self._topics = []
        self._rows = []  # per table: {key tuple: values}
        self._pending = []  # this event's writes: (table, key, values or None)
        self._pending_emits = []
        self.emitted = []
        self.logs = []  # (level, message)
        self._schema = None

    def table(self, name, columns, primary_key):
        """Declares a table, as ``[[sink.read_model.tables]]`` does in the pipeline."""
        self._tables.append((name, list(columns), list(primary_key)))
        self._rows.append({})
        self._schema = None
        return self

    def topic(self, name):
        """Allows emitting to a topic, as ``[sink.topics] allowed`` does."""
        self._topics.append(name)
        self._schema = None
        return self

    @property
    def schema(self):
        if self._schema is None:
            self._schema = Schema(self._tables, self._topics)
        return self._schema

    def run(self, handler, events):
        """Runs ``handler`` on ``events`` in order, as one batch. Returns one result per
        event: None on success, else a :class:`Failure` (``.message``, ``.retryable``)."""
        buf, types, index = pack_batch(events)
        results = [None] * len(events)
        for k, message, retryable in run_batch(buf, types, index, handler, self, self.schema):
            results[k] = Failure(message, retryable)
        return results

    # --- what tests look at ---

    def rows(self, table):
        """The rows of ``table`` as dicts, ordered by primary key."""
        t = self.schema.table(table)
        rows = self._rows[t.number]
        return [dict(zip(t.columns, rows[k])) for k in sorted(rows, key=repr)]

    def row(self, table, key):
        """The row of ``table`` with primary key ``key`` (a value or a tuple), or None."""
        t = self.schema.table(table)
        if not isinstance(key, (tuple, list)):
            key = (key,)
        values = self._rows[t.number].get(tuple(key))
        return None if values is None else dict(zip(t.columns, values))

    # --- the backend the SDK's Ctx talks to ---

    def _key_of(self, table, values):
        t = self.schema.tables[table]
        return tuple(values[i] for i in t.key_positions)

    def get(self, table, key):
        key = tuple(key)
        for t, k, values in reversed(self._pending):
            if t == table and k == key:
                return None if values is None else list(values)
        values = self._rows[table].get(key)
        return None if values is None else list(values)

    def upsert(self, input, table, values):
        self._check(table, values)
        self._pending.append((table, self._key_of(table, values), list(values)))

    def delete(self, input, table, values):
        self._pending.append((table, self._key_of(table, values), None))

    def emit(self, input, topic, key, event_type, data):
        self._pending_emits.append(Emitted(self.schema.topics[topic], key, event_type, data))

    def record_info(self, origin):
        return RecordMeta("test", 0, origin, [])

    def log(self, level, message):
        self.logs.append((level, message))

    def finish(self, input, error):
        """Called by the batch loop after each event: commits or drops its outputs."""
        writes, self._pending = self._pending, []
        emits, self._pending_emits = self._pending_emits, []
        if error is not None:
            return
        for table, key, values in writes:
            if values is None:
                self._rows[table].pop(key, None)
            else:
                self._rows[table][key] = values
        self.emitted.extend(emits)

    def _check(self, table, values):
        t = self.schema.tables[table]
        for i in t.key_positions:
            if values[i] is None:
                # The host rejects this event's outputs: the same outcome as an error here.
                raise Error(f"plugin wrote a row to `{t.name}` with NULL key column `{t.columns[i]}`")
