"""The Wasm side: the componentize-py bindings of the ``projection`` world, the batch
loop and a backend that forwards to the host's imports. Imported only inside a
componentize-py build (``wit_world`` exists only there)."""

import sys

import wit_world
from wit_world.imports import context, read_model, topics, types

from . import Schema, RecordMeta, make_converter, run_batch

_NULL = types.Value_Null()
_Row = types.Row
_Outgoing = types.Outgoing
_Failure = types.Failure
_HandlerError = types.HandlerError
_ValueNull = types.Value_Null

# The pipeline's tables and topics: asked once per instance, on the first batch (not at
# import: componentize-py runs imports at build time, where there is no host).
_schema = None


def _get_schema():
    global _schema
    if _schema is None:
        _schema = Schema(
            [(t.name, t.columns, t.primary_key) for t in context.tables()],
            context.topics(),
        )
    return _schema


class _HostBackend:
    converter = make_converter(
        _NULL,
        types.Value_Boolean,
        types.Value_Integer,
        types.Value_Float,
        types.Value_Text,
        types.Value_Json,
    )

    @staticmethod
    def get(table, key):
        row = read_model.get(table, key)
        if row is None:
            return None
        return [None if type(v) is _ValueNull else v.value for v in row.values]

    @staticmethod
    def upsert(input, table, values):
        read_model.upsert(input, _Row(table, values))

    @staticmethod
    def delete(input, table, values):
        read_model.delete(input, _Row(table, values))

    @staticmethod
    def emit(input, topic, key, event_type, data):
        topics.emit(input, _Outgoing(topic, key, event_type, data))

    @staticmethod
    def record_info(origin):
        m = context.record_info(origin)
        return RecordMeta(m.topic, m.partition, m.offset, list(m.headers))

    @staticmethod
    def log(level, message):
        context.log(level, message)


_BACKEND = _HostBackend()


class _HostLog:
    """``sys.stdout``/``sys.stderr`` inside the component: lines go to ``context.log``.
    (The component is built with its WASI imports stubbed out, so writing to a real
    file descriptor would trap.)"""

    def __init__(self, level):
        self._level = level
        self._pending = ""

    def write(self, s):
        text = self._pending + s
        *lines, self._pending = text.split("\n")
        for line in lines:
            context.log(self._level, line)
        return len(s)

    def flush(self):
        if self._pending:
            context.log(self._level, self._pending)
            self._pending = ""

    def writable(self):
        return True

    def isatty(self):
        return False


sys.stdout = _HostLog(2)
sys.stderr = _HostLog(1)


def world(handler):
    """The class componentize-py instantiates to serve the ``handle`` export."""

    class WitWorld(wit_world.WitWorld):
        def handle(self, batch):
            failures = run_batch(batch.bytes, batch.event_types, batch.index, handler, _BACKEND, _get_schema())
            out = [_Failure(k, _HandlerError(message, retryable)) for k, message, retryable in failures]
            sys.stdout.flush()
            sys.stderr.flush()
            return out

    return WitWorld
