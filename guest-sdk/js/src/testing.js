// Test a handler natively under Node, without Wasm or a broker: TestHost plays the host's
// part with an in-memory read model and keeps the host's rules (a failed event's writes
// and emits are dropped; later events see earlier events' writes). Events are packed into
// the same bytes + 64-byte index the host sends, so the SDK's decoding runs in tests too.
//
//   import { TestHost, testEvent } from 'weir-sdk/testing';
//   const host = new TestHost().table('orders', ['id', 'total'], ['id']);
//   const results = host.run(handle, [testEvent('OrderPlaced', { orderId: 'o1', total: 5 })]);

import { runBatch, Schema, fromWitValue, toWitValue, Json } from './index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ABSENT = 0xffffffff;

/**
 * An input event for tests. `data` is any JSON value (or a string of raw JSON via
 * `{ rawData }`). Options: timestampMs, id, version, aggregateId, correlationId, key.
 */
export function testEvent(eventType, data, options = {}) {
  return {
    eventType,
    data: options.rawData !== undefined ? options.rawData : JSON.stringify(data),
    timestampMs: options.timestampMs ?? 0,
    id: options.id,
    version: options.version ?? 1,
    aggregateId: options.aggregateId,
    correlationId: options.correlationId,
    key: options.key,
  };
}

/** Packs test events into a WIT `batch`, as the host does. */
export function packBatch(events) {
  const chunks = [];
  let length = 0;
  const eventTypes = [];
  const typeNumbers = new Map();
  const index = new Uint8Array(64 * events.length);
  const view = new DataView(index.buffer);
  const span = (at, value) => {
    if (value === undefined || value === null) {
      view.setUint32(at, 0, true);
      view.setUint32(at + 4, ABSENT, true);
      return;
    }
    const bytes = typeof value === 'string' ? encoder.encode(value) : value;
    view.setUint32(at, length, true);
    view.setUint32(at + 4, bytes.length, true);
    chunks.push(bytes);
    length += bytes.length;
  };
  events.forEach((e, k) => {
    const at = 64 * k;
    if (!typeNumbers.has(e.eventType)) {
      typeNumbers.set(e.eventType, eventTypes.length);
      eventTypes.push(e.eventType);
    }
    span(at, e.id);
    view.setBigInt64(at + 8, BigInt(e.timestampMs ?? 0), true);
    view.setUint32(at + 16, e.version ?? 1, true);
    view.setUint16(at + 20, typeNumbers.get(e.eventType), true);
    span(at + 24, e.aggregateId);
    span(at + 32, e.correlationId);
    span(at + 40, e.key);
    span(at + 48, e.data);
    view.setUint32(at + 56, k, true);
  });
  const bytes = new Uint8Array(length);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.length;
  }
  return { bytes, eventTypes, index };
}

function keyString(values) {
  return values.map((v) => (v.tag === 'json' ? 'json:' + decoder.decode(v.val) : `${v.tag}:${String(v.val)}`)).join('\u0000');
}

/** Checks that a value is shaped as the component binding requires (catches SDK bugs). */
function checkWitValue(v) {
  const ok = {
    null: () => !('val' in v) || v.val === undefined,
    boolean: () => typeof v.val === 'boolean',
    integer: () => typeof v.val === 'bigint' && v.val >= -(2n ** 63n) && v.val < 2n ** 63n,
    float: () => typeof v.val === 'number',
    text: () => typeof v.val === 'string',
    json: () => v.val instanceof Uint8Array,
  }[v.tag];
  if (ok === undefined || !ok()) throw new TypeError(`not a WIT value: ${JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))}`);
}

/** An in-memory stand-in for the weir host. */
export class TestHost {
  constructor() {
    this._tables = [];
    this._topics = [];
    this._rows = [];
    this._pending = [];
    this._pendingEmits = [];
    /** Events emitted by events that succeeded: { topic, key (string|undefined), eventType, data (parsed) }. */
    this.emitted = [];
    /** Log lines: { level, message }. */
    this.logs = [];
    this._schema = undefined;
  }

  /** Declares a table, as `[[sink.read_model.tables]]` does in the pipeline. */
  table(name, columns, primaryKey) {
    this._tables.push({ name, columns, primaryKey });
    this._rows.push(new Map());
    this._schema = undefined;
    return this;
  }

  /** Allows emitting to a topic, as `[sink.topics] allowed` does. */
  topic(name) {
    this._topics.push(name);
    this._schema = undefined;
    return this;
  }

  /**
   * Runs `handler` on the events as one batch. Returns one result per event:
   * `{ ok: true }` or `{ ok: false, message, retryable }`.
   */
  run(handler, events) {
    this._schema ??= new Schema(this._tables, this._topics);
    const failures = runBatch(packBatch(events), handler, this, this._schema);
    const results = events.map(() => ({ ok: true }));
    for (const f of failures) results[f.index] = { ok: false, message: f.error.message, retryable: f.error.retryable };
    return results;
  }

  /**
   * Runs a built component's `handle` export (see `weir-sdk/component`'s loadComponent) on
   * the events as one batch, with this host serving its imports. Same results as `run`.
   * (The host drops a failed event's writes after the call; as in weir, a later event of
   * the batch that read them would see them here.)
   */
  runComponent(component, events) {
    this._schema ??= new Schema(this._tables, this._topics);
    const failures = component.handle(packBatch(events), this);
    const failed = new Set(failures.map((f) => f.index));
    const writes = this._pending;
    const emits = this._pendingEmits;
    this._pending = [];
    this._pendingEmits = [];
    for (let k = 0; k < events.length; k++) {
      this._pending = writes.filter((w) => w[3] === k);
      this._pendingEmits = emits.filter((e) => e.input === k);
      this._settle(!failed.has(k));
    }
    const results = events.map(() => ({ ok: true }));
    for (const f of failures) results[f.index] = { ok: false, message: f.error.message, retryable: f.error.retryable };
    return results;
  }

  /** The declared tables, as `context.tables` returns them. */
  tables() {
    return this._tables;
  }

  /** The allowed topics, as `context.topics` returns them. */
  topics() {
    return this._topics;
  }

  /** Called by the SDK after each event: commit its writes and emits, or drop them. */
  endEvent(_input, ok) {
    this._settle(ok);
  }

  _settle(ok) {
    const writes = this._pending;
    const emits = this._pendingEmits;
    this._pending = [];
    this._pendingEmits = [];
    if (!ok) return;
    for (const [table, key, values] of writes) {
      if (values === null) this._rows[table].delete(key);
      else this._rows[table].set(key, values);
    }
    for (const { input, ...e } of emits) this.emitted.push(e);
  }

  _table(name) {
    const at = this._tables.findIndex((t) => t.name === name);
    if (at < 0) throw new Error(`table \`${name}\` not declared in the TestHost`);
    return at;
  }

  _object(at, values) {
    const row = {};
    this._tables[at].columns.forEach((c, i) => (row[c] = fromWitValue(values[i])));
    return row;
  }

  /** The committed rows of `table` as objects, in insertion order. */
  rows(table) {
    const at = this._table(table);
    return [...this._rows[at].values()].map((v) => this._object(at, v));
  }

  /** The committed row of `table` with primary key `key` (a value or an array), or null. */
  row(table, key) {
    const at = this._table(table);
    const parts = Array.isArray(key) ? key : [key];
    const s = (this._schema ??= new Schema(this._tables, this._topics)).tables.get(table);
    // Encode the key the way the SDK does, so numbers and strings match.
    const k = keyString(parts.map((p, i) => toWitValue(p, s.primaryKey[i])));
    const values = this._rows[at].get(k);
    return values === undefined ? null : this._object(at, values);
  }

  _keyOf(table, values) {
    const t = this._tables[table];
    return keyString(t.primaryKey.map((c) => values[t.columns.indexOf(c)]));
  }

  // --- the backend, in WIT terms ---

  get(table, key) {
    key.forEach(checkWitValue);
    const k = keyString(key);
    for (let i = this._pending.length - 1; i >= 0; i--) {
      const [t, pk, values] = this._pending[i];
      if (t === table && pk === k) return values === null ? undefined : { table, values };
    }
    const values = this._rows[table].get(k);
    return values === undefined ? undefined : { table, values };
  }

  upsert(input, row) {
    this._checkRow(row);
    this._pending.push([row.table, this._keyOf(row.table, row.values), row.values, input]);
  }

  delete(input, row) {
    this._checkRow(row);
    this._pending.push([row.table, this._keyOf(row.table, row.values), null, input]);
  }

  emit(input, outgoing) {
    if (!(outgoing.data instanceof Uint8Array)) throw new TypeError('emit data must be a Uint8Array');
    if (outgoing.key !== undefined && !(outgoing.key instanceof Uint8Array)) throw new TypeError('emit key must be a Uint8Array or undefined');
    this._pendingEmits.push({
      input,
      topic: this._topics[outgoing.topic],
      key: outgoing.key === undefined ? undefined : decoder.decode(outgoing.key),
      eventType: outgoing.eventType,
      data: JSON.parse(decoder.decode(outgoing.data)),
    });
  }

  recordInfo(origin) {
    return { topic: 'test', partition: 0, offset: BigInt(origin), headers: [] };
  }

  log(level, message) {
    this.logs.push({ level, message });
  }

  _checkRow(row) {
    const t = this._tables[row.table];
    if (t === undefined) throw new TypeError(`no table number ${row.table}`);
    if (row.values.length !== t.columns.length) throw new TypeError(`row of ${t.name} has ${row.values.length} values, not ${t.columns.length}`);
    row.values.forEach(checkWitValue);
  }
}

export { Json };
