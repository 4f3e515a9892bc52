"""weir-sdk for Python: write weir projections as one plain function per event.

    from weir_sdk import projection, Error

    @projection
    def handle(event, ctx):
        if event.event_type == "OrderPlaced":
            order = event.data
            ctx.upsert("orders", {"id": order["orderId"], "total": float(order["total"])})

Built with componentize-py (see plugins/order-summary-py/build.sh), ``@projection`` also
defines the ``WitWorld`` class that exports the ``weir:plugin/projection`` world: the host
calls it once per batch and the SDK calls your function once per event. Run natively, the
function is just a function: test it with :class:`weir_sdk.testing.TestHost` and
``python3 -m unittest``.

An exception raised by the handler fails only that event (the host drops its writes and
emits, and dead-letters or retries it); the rest of the batch commits. Raise
:class:`Error` (``retryable=True`` for transient conditions) for a clear message.
"""

import json as _json
import sys as _sys

__all__ = [
    "projection",
    "Error",
    "Event",
    "Ctx",
    "RecordMeta",
    "Schema",
    "ERROR",
    "WARN",
    "INFO",
    "DEBUG",
    "TRACE",
    "rfc3339_from_ms",
    "encode_json",
    "decode_json",
]

# Log levels, as the host's `context.log` numbers them.
ERROR, WARN, INFO, DEBUG, TRACE = 0, 1, 2, 3, 4
_LEVELS = {"error": ERROR, "warn": WARN, "warning": WARN, "info": INFO, "debug": DEBUG, "trace": TRACE}

_ABSENT = 0xFFFFFFFF
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_UNSET = object()


class Error(Exception):
    """Why a handler failed for one event. Only that event fails; the rest of the batch
    commits. ``retryable=True`` says trying again may succeed (a transient condition);
    bad input is not retryable."""

    def __init__(self, message, retryable=False):
        super().__init__(message)
        self.message = str(message)
        self.retryable = bool(retryable)

    @classmethod
    def retryable_error(cls, message):
        """A transient failure: the host may retry the event."""
        return cls(message, retryable=True)


# --- JSON, built once (DESIGN.md: a per-row json.dumps costs about 6 us more) -----------


def _reject_constant(name):
    # serde_json (the Rust SDK) rejects NaN and Infinity; so does this SDK.
    raise ValueError(f"invalid JSON number {name}")


_decode = _json.JSONDecoder(parse_constant=_reject_constant).decode
# Compact, UTF-8 (no \u escapes) and no NaN: the same text serde_json::to_vec writes for
# the same values (floats may still differ in exponent style: 1e-05 vs 1e-5).
_encode = _json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def encode_json(value):
    """``value`` as compact UTF-8 JSON bytes, with the SDK's encoder (built once)."""
    return _encode(value).encode()


def decode_json(raw):
    """Parses JSON text (bytes or str) with the SDK's decoder (built once, rejects NaN)."""
    if not isinstance(raw, str):
        raw = bytes(raw).decode()
    return _decode(raw)


# --- Time --------------------------------------------------------------------------------


_last_day = [None, ""]  # (days since the epoch, "YYYY-MM-DD"): a batch's events share days


def _civil(days):
    # Howard Hinnant's civil_from_days, as in guest-sdk/src/event.rs.
    z = days + 719_468
    era, doe = divmod(z, 146_097)
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return "%04d-%02d-%02d" % (y, m, d)


def rfc3339_from_ms(ms):
    """Milliseconds since the epoch as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC, proleptic
    Gregorian): the exact text of the Rust SDK's ``Event::timestamp_rfc3339``."""
    secs, millis = divmod(ms, 1000)
    days, rem = divmod(secs, 86_400)
    last = _last_day
    if last[0] != days:
        last[1] = _civil(days)
        last[0] = days
    return "%sT%02d:%02d:%02d.%03dZ" % (last[1], rem // 3600, rem % 3600 // 60, rem % 60, millis)


# --- Events: read lazily from the packed 64-byte index -----------------------------------

if _sys.byteorder == "little":

    def _words(index):
        """The index as unsigned 32-bit words (no copy)."""
        return memoryview(index).cast("B").cast("I")

else:  # pragma: no cover - big-endian hosts only (native tests there)
    import array as _array

    def _words(index):
        words = _array.array("I", bytes(index))
        words.byteswap()
        return words


class Event:
    """One input event. Fields are read from the batch on access; ``data`` is parsed on
    first access (and kept). Word ``o`` of ``_w`` is the event's first index word."""

    __slots__ = ("_b", "_w", "_o", "event_type", "_data")

    def __init__(self, buf, words, first_word, event_type):
        self._b = buf
        self._w = words
        self._o = first_word
        #: The envelope's ``eventType``.
        self.event_type = event_type
        self._data = _UNSET

    def _span(self, at):
        w = self._w
        n = w[self._o + at + 1]
        if n == _ABSENT:
            return None
        s = w[self._o + at]
        return self._b[s : s + n]

    def _text(self, at):
        s = self._span(at)
        return None if s is None else s.decode()

    @property
    def id(self):
        """The envelope's ``eventId`` (None when absent)."""
        return self._text(0)

    @property
    def timestamp_ms(self):
        """The envelope's ``timestamp`` in milliseconds since the epoch."""
        w, o = self._w, self._o
        t = w[o + 2] | (w[o + 3] << 32)
        return t - (1 << 64) if t > _I64_MAX else t

    def timestamp_rfc3339(self):
        """The ``timestamp`` as RFC 3339 text in UTC, millisecond precision
        (``2026-03-30T10:00:00.000Z``), exactly as the Rust SDK writes it."""
        return rfc3339_from_ms(self.timestamp_ms)

    @property
    def version(self):
        """The envelope's schema ``version`` (1 when absent)."""
        return self._w[self._o + 4]

    @property
    def aggregate_id(self):
        """The envelope's ``aggregateId`` (None when absent)."""
        return self._text(6)

    @property
    def correlation_id(self):
        """The envelope's ``correlationId`` (None when absent)."""
        return self._text(8)

    @property
    def key(self):
        """The Kafka record key, as bytes (None when absent)."""
        return self._span(10)

    @property
    def origin(self):
        """The handle the host uses to find this event's Kafka metadata."""
        return self._w[self._o + 14]

    @property
    def data_raw(self):
        """The envelope's ``data``: raw JSON bytes (``b"null"`` when absent)."""
        s = self._span(12)
        return b"null" if s is None else s

    @property
    def data(self):
        """The envelope's ``data``, parsed (dicts, lists, str, int, float, bool, None).
        Invalid JSON raises :class:`Error` ``invalid event data: ...``, which fails only
        this event."""
        d = self._data
        if d is _UNSET:
            w, o = self._w, self._o
            n = w[o + 13]
            if n == _ABSENT:
                d = None
            else:
                s = w[o + 12]
                try:
                    d = _decode(self._b[s : s + n].decode())
                except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
                    raise Error(f"invalid event data: {e}") from None
            self._data = d
        return d

    def __repr__(self):
        return f"Event({self.event_type!r}, id={self.id!r}, data={self.data_raw!r})"


# --- The pipeline's tables and topics, mapped once per instance --------------------------


class _Table:
    __slots__ = ("number", "name", "columns", "positions", "primary_key", "key_positions")

    def __init__(self, number, name, columns, primary_key):
        self.number = number
        self.name = name
        self.columns = tuple(columns)
        self.positions = {c: i for i, c in enumerate(self.columns)}
        self.primary_key = tuple(primary_key)
        self.key_positions = tuple(self.positions[k] for k in self.primary_key)


class Schema:
    """What the pipeline declares: tables (name, columns in declared order, primary key)
    and the topics a plugin may emit to, with name -> position maps built once."""

    def __init__(self, tables=(), topics=()):
        self.tables = [_Table(i, name, cols, pk) for i, (name, cols, pk) in enumerate(tables)]
        self.by_name = {t.name: t for t in self.tables}
        self.topics = list(topics)
        self.topic_numbers = {t: i for i, t in enumerate(self.topics)}

    def table(self, name):
        t = self.by_name.get(name)
        if t is None:
            declared = ", ".join(t.name for t in self.tables)
            raise Error(f"table `{name}` is not declared in the pipeline (declared: {declared})")
        return t


class RecordMeta:
    """Kafka metadata of an input event."""

    __slots__ = ("topic", "partition", "offset", "headers")

    def __init__(self, topic, partition, offset, headers):
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.headers = headers

    def __repr__(self):
        return f"RecordMeta({self.topic!r}, {self.partition}, {self.offset}, {self.headers!r})"

    def __eq__(self, other):
        return isinstance(other, RecordMeta) and (self.topic, self.partition, self.offset, self.headers) == (
            other.topic,
            other.partition,
            other.offset,
            other.headers,
        )


def make_converter(null, boolean, integer, real, text, json_bytes):
    """A backend's value constructors (see :class:`_Converter`), turning a Python value
    into the backend's value: None -> null, bool, int (64-bit), float, str -> text,
    bytes -> json (raw JSON text), dict/list/tuple -> json (encoded once, compactly)."""

    def _int(v):
        if _I64_MIN <= v <= _I64_MAX:
            return integer(v)
        raise Error(f"integer {v} does not fit in 64 bits")

    def _enc(v):
        try:
            return json_bytes(_encode(v).encode())
        except (TypeError, ValueError) as e:
            raise Error(f"value is not JSON-serialisable: {e}") from None

    table = {
        type(None): lambda v: null,
        bool: boolean,
        int: _int,
        float: real,
        str: text,
        bytes: json_bytes,
        bytearray: lambda v: json_bytes(bytes(v)),
        memoryview: lambda v: json_bytes(bytes(v)),
        dict: _enc,
        list: _enc,
        tuple: _enc,
    }

    def slow(v):
        # Other types and subclasses (IntEnum, str enums, OrderedDict...): resolved here.
        f = table.get(type(v))
        if f is not None:
            return f
        for base, f in ((bool, boolean), (int, _int), (float, real), (str, text), (bytes, json_bytes)):
            if isinstance(v, base):
                return lambda x, f=f, base=base: f(base(x))
        if isinstance(v, (dict, list, tuple)):
            return _enc
        raise Error(f"unsupported value of type {type(v).__name__}: {v!r}")

    return _Converter(null, text, real, integer, table, slow)


class _Converter:
    """A backend's value constructors: the common ones for the inlined fast path of
    :meth:`Ctx.upsert`, the rest through ``table``/``slow``."""

    __slots__ = ("null", "text", "real", "integer", "table", "slow")

    def __init__(self, null, text, real, integer, table, slow):
        self.null, self.text, self.real, self.integer, self.table, self.slow = null, text, real, integer, table, slow


class Ctx:
    """What a handler uses to read and write the read model and to emit events, for the
    event it is handling. Valid only during the handler call."""

    __slots__ = ("_backend", "_schema", "_tables", "_conv", "_input", "_origin")

    def __init__(self, backend, schema, input=0, origin=0):
        self._backend = backend
        self._schema = schema
        self._tables = schema.by_name
        self._conv = backend.converter
        self._input = input
        self._origin = origin

    def _value(self, v):
        f = self._conv.table.get(type(v))
        if f is None:
            f = self._conv.slow(v)
        return f(v)

    def _key(self, table, key):
        if type(key) is not tuple and type(key) is not list:
            key = (key,)
        if len(key) != len(table.primary_key):
            raise Error(
                f"table `{table.name}` has a primary key of {len(table.primary_key)} column(s), got {len(key)}"
            )
        return [self._value(v) for v in key]

    def get(self, table, key):
        """The row of ``table`` whose primary key is ``key`` (a value, or a tuple for a
        composite key), as a dict of every column in declared order, or None. Earlier
        writes of this batch are seen. json columns come back as raw JSON bytes."""
        t = self._schema.table(table)
        values = self._backend.get(t.number, self._key(t, key))
        if values is None:
            return None
        return dict(zip(t.columns, values))

    def upsert(self, table, row):
        """Inserts ``row`` (a dict of column name -> value), or replaces the row with the
        same primary key. Columns not given are NULL; an unknown column is an error."""
        t = self._tables.get(table)
        if t is None:
            t = self._schema.table(table)  # raises the error that names the tables
        positions = t.positions
        c = self._conv
        text, real, integer, slow = c.text, c.real, c.integer, c.slow
        values = [c.null] * len(positions)
        # The common types inline: a call per value costs microseconds in the component.
        for column, v in row.items():
            at = positions.get(column)
            if at is None:
                raise Error(f"table `{t.name}` has no column `{column}` (declared: {', '.join(t.columns)})")
            tv = type(v)
            if tv is str:
                values[at] = text(v)
            elif v is None:
                pass
            elif tv is float:
                values[at] = real(v)
            elif tv is int and -0x8000000000000000 <= v <= 0x7FFFFFFFFFFFFFFF:
                values[at] = integer(v)
            else:
                values[at] = slow(v)(v)
        self._backend.upsert(self._input, t.number, values)

    def delete(self, table, key):
        """Deletes the row of ``table`` whose primary key is ``key``."""
        t = self._schema.table(table)
        key = self._key(t, key)
        values = [self._conv.null] * len(t.columns)
        for at, v in zip(t.key_positions, key):
            values[at] = v
        self._backend.delete(self._input, t.number, values)

    def emit(self, topic, key, event_type, data):
        """Emits an event of type ``event_type`` to ``topic`` (which the pipeline's
        ``[sink.topics] allowed`` must list). ``key`` is str, bytes or None; ``data`` is a
        JSON-serialisable value (encoded once, compactly) or raw JSON bytes. The host
        wraps it in the standard envelope."""
        number = self._schema.topic_numbers.get(topic)
        if number is None:
            raise Error(
                f"topic `{topic}` is not in the pipeline's [sink.topics] allowed list "
                f"({', '.join(self._schema.topics)})"
            )
        if isinstance(key, str):
            key = key.encode()
        elif key is not None:
            key = bytes(key)
        if isinstance(data, (bytes, bytearray, memoryview)):
            data = bytes(data)
        else:
            try:
                data = _encode(data).encode()
            except (TypeError, ValueError) as e:
                raise Error(f"event data is not JSON-serialisable: {e}") from None
        self._backend.emit(self._input, number, key, str(event_type), data)

    def record_info(self):
        """Kafka metadata (topic, partition, offset, headers) of the current event."""
        return self._backend.record_info(self._origin)

    def log(self, message, level=INFO):
        """Logs through the host's logger. ``level``: ERROR..TRACE or a name ("warn")."""
        if isinstance(level, str):
            level = _LEVELS[level.lower()]
        self._backend.log(int(level), str(message))


def run_batch(buf, event_types, index, handler, backend, schema):
    """Calls ``handler(event, ctx)`` once per event of a packed batch, in order, and
    returns the failures as ``[(event number, message, retryable)]``. The host glue and
    :class:`weir_sdk.testing.TestHost` both use it."""
    words = _words(index)
    failures = []
    ctx = Ctx(backend, schema)
    finish = getattr(backend, "finish", None)
    for k in range(len(index) // 64):
        o = k * 16
        event = Event(buf, words, o, event_types[words[o + 5] & 0xFFFF])
        ctx._input = k
        ctx._origin = words[o + 14]
        error = None
        try:
            handler(event, ctx)
        except Error as e:
            error = (k, e.message, e.retryable)
        except Exception as e:  # noqa: BLE001 - any handler exception fails only this event
            error = (k, f"{type(e).__name__}: {e}", False)
        if error is not None:
            failures.append(error)
        if finish is not None:
            finish(k, error)
    return failures


def projection(handler):
    """Marks ``handler(event, ctx)`` as the plugin's projection. Inside a componentize-py
    build it also defines ``WitWorld`` in the handler's module (the class componentize-py
    exports); natively it only returns the function unchanged."""
    try:
        from . import _guest
    except ModuleNotFoundError as e:
        if e.name is None or not e.name.startswith(("wit_world", "componentize_py")):
            raise
        return handler  # native: no bindings, nothing to export
    setattr(_sys.modules[handler.__module__], "WitWorld", _guest.world(handler))
    return handler
