// weir-sdk for JavaScript: write weir projections as a plain function per event.
//
//   import { WeirError } from 'weir-sdk';
//   export function handle(event, ctx) {
//     if (event.eventType === 'OrderPlaced') {
//       const order = event.data();
//       ctx.upsert('orders', { id: order.orderId, total: order.total });
//     }
//   }
//
// This module has no Wasm imports: it runs under Node too, so plugin logic is tested with
// `node --test` and `weir-sdk/testing`'s TestHost. `weir-sdk/guest` binds it to the host.
//
// The SDK talks to a *backend* that speaks the WIT's terms (table and topic numbers, WIT
// values `{ tag, val }`): the host's imports in a component, TestHost in tests. It hides
// the packed 64-byte event index and the name -> position mapping.

const ROW = 64;
const ABSENT = 0xffffffff;
const TWO_32 = 4294967296;

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** A handler's failure for one event. Only that event fails; the rest of the batch commits. */
export class WeirError extends Error {
  /**
   * @param {string} message what went wrong (goes to the dead-letter record and the logs)
   * @param {{retryable?: boolean}} [options] retryable: trying again may succeed
   */
  constructor(message, options = {}) {
    super(message);
    this.name = 'WeirError';
    this.retryable = options.retryable === true;
  }

  /** A transient failure: the host may retry the event. */
  static retryable(message) {
    return new WeirError(message, { retryable: true });
  }
}

/** Log levels, as the host numbers them. */
export const Level = Object.freeze({ error: 0, warn: 1, info: 2, debug: 3, trace: 4 });

// ---------------------------------------------------------------------------------------
// Column values
// ---------------------------------------------------------------------------------------

/**
 * A `json` column's value: raw JSON text. `ctx.get` returns json columns as `Json`, so a
 * row read and written back keeps its bytes. Write plain objects and arrays directly.
 */
export class Json {
  /** @param {Uint8Array} bytes raw JSON, UTF-8 */
  constructor(bytes) {
    this.bytes = bytes;
  }
  /** From any JSON-serialisable value. */
  static of(value) {
    return new Json(utf8Encoder.encode(JSON.stringify(value)));
  }
  /** From JSON text. */
  static fromText(text) {
    return new Json(utf8Encoder.encode(text));
  }
  get text() {
    return utf8.decode(this.bytes);
  }
  /** The parsed value. */
  get value() {
    return JSON.parse(this.text);
  }
  toJSON() {
    return this.value;
  }
}

/** Forces a number to be written as a float (`real`/`numeric`), even when it is whole. */
export class Float {
  constructor(value) {
    this.value = value;
  }
}

/** `float(100)` writes 100.0, not the integer 100. */
export const float = (n) => new Float(n);

/** Writes any JSON-serialisable value (also a string or a number) as a `json` column. */
export const json = (value) => Json.of(value);

/** A row from `ctx.get` carries what was read under this key (not enumerable by for-in or JSON). */
const READ = Symbol('weir.read');

const NULL = Object.freeze({ tag: 'null' });
const TRUE = Object.freeze({ tag: 'boolean', val: true });
const FALSE = Object.freeze({ tag: 'boolean', val: false });

/**
 * A JS value as a WIT `value`:
 *   null / undefined -> null      boolean -> boolean     bigint -> integer
 *   number -> integer if it is a safe integer, else float (use `float(n)` to force float)
 *   string -> text    Date -> text (RFC 3339, ms)        Json, Uint8Array, object, array -> json
 */
export { civilRfc3339 as _civilRfc3339 };

export function toWitValue(v, column) {
  switch (typeof v) {
    case 'string':
      return { tag: 'text', val: v };
    case 'number':
      if (Number.isSafeInteger(v)) return { tag: 'integer', val: BigInt(v) };
      if (Number.isFinite(v)) return { tag: 'float', val: v };
      throw new WeirError(`column \`${column}\`: ${v} is not a finite number`);
    case 'bigint':
      return { tag: 'integer', val: v };
    case 'boolean':
      return v ? TRUE : FALSE;
    case 'undefined':
      return NULL;
    case 'object':
      if (v === null) return NULL;
      if (v instanceof Float) {
        const f = Number(v.value);
        if (Number.isFinite(f)) return { tag: 'float', val: f };
        throw new WeirError(`column \`${column}\`: ${v.value} is not a finite number`);
      }
      if (v instanceof Json) return { tag: 'json', val: v.bytes };
      if (v instanceof Uint8Array) return { tag: 'json', val: v };
      if (v instanceof Date) {
        if (Number.isNaN(v.getTime())) throw new WeirError(`column \`${column}\`: invalid Date`);
        return { tag: 'text', val: rfc3339FromMs(v.getTime()) };
      }
      return { tag: 'json', val: utf8Encoder.encode(JSON.stringify(v)) };
    default:
      throw new WeirError(`column \`${column}\`: cannot store a ${typeof v}`);
  }
}

/** A WIT `value` as a JS value (integers as numbers when safe, else BigInt; json as Json). */
export function fromWitValue(v) {
  switch (v.tag) {
    case 'null':
      return null;
    case 'text':
    case 'boolean':
    case 'float':
      return v.val;
    case 'integer': {
      const n = Number(v.val);
      return Number.isSafeInteger(n) ? n : v.val;
    }
    case 'json':
      return new Json(v.val);
    default:
      throw new WeirError(`unknown value kind ${v.tag}`);
  }
}

// ---------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------

const pad2 = (n) => (n < 10 ? '0' : '') + n;

/**
 * Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC), the same text as the
 * Rust SDK's `timestamp_rfc3339` (Howard Hinnant's civil_from_days, proleptic Gregorian).
 */
export function rfc3339FromMs(ms) {
  // Years 0000-9999: the engine's native formatting is the same text and far cheaper than
  // the arithmetic below in an interpreter (about 1 us against 9).
  if (ms >= MIN_ISO_MS && ms <= MAX_ISO_MS) return new Date(ms).toISOString();
  return civilRfc3339(ms);
}

const MIN_ISO_MS = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
const MAX_ISO_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

function civilRfc3339(ms) {
  const secs = Math.floor(ms / 1000);
  const millis = ms - secs * 1000;
  const days = Math.floor(secs / 86400);
  const rem = secs - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  // Rust's `{y:04}`: the sign counts towards the width.
  const year = y < 0 ? '-' + String(-y).padStart(3, '0') : String(y).padStart(4, '0');
  const ms3 = millis < 10 ? '00' + millis : millis < 100 ? '0' + millis : String(millis);
  const hh = Math.floor(rem / 3600);
  const mi = Math.floor((rem % 3600) / 60);
  return `${year}-${pad2(m)}-${pad2(d)}T${pad2(hh)}:${pad2(mi)}:${pad2(rem % 60)}.${ms3}Z`;
}

// ---------------------------------------------------------------------------------------
// Events: views into the batch, decoded lazily
// ---------------------------------------------------------------------------------------

/**
 * One input event, a view into the batch: each field is read from the packed index only
 * when asked for. Valid during the handler call only (do not keep it).
 */
export class Event {
  constructor(batch, view, k) {
    this._batch = batch;
    this._view = view;
    this._at = k * ROW;
  }

  _span(off) {
    const len = this._view.getUint32(this._at + off + 4, true);
    if (len === ABSENT) return undefined;
    const start = this._view.getUint32(this._at + off, true);
    return this._batch.bytes.subarray(start, start + len);
  }

  _text(off) {
    const s = this._span(off);
    return s === undefined ? undefined : utf8.decode(s);
  }

  /** The envelope's `eventType`. */
  get eventType() {
    return this._batch.eventTypes[this._view.getUint16(this._at + 20, true)];
  }
  /** The envelope's `eventId` (undefined when absent). */
  get id() {
    return this._text(0);
  }
  /** The envelope's `timestamp`, ms since the epoch, as a Number (0 when absent). */
  get timestampMs() {
    // s64 read as two halves: no BigInt. Exact up to 2^53 ms (285,000 years).
    return this._view.getInt32(this._at + 12, true) * TWO_32 + this._view.getUint32(this._at + 8, true);
  }
  /** The envelope's `timestamp` as RFC 3339 text in UTC, ms precision (as the Rust SDK). */
  get timestampRfc3339() {
    return rfc3339FromMs(this.timestampMs);
  }
  /** The envelope's schema `version` (1 when absent). */
  get version() {
    return this._view.getUint32(this._at + 16, true);
  }
  /** The envelope's `aggregateId`. */
  get aggregateId() {
    return this._text(24);
  }
  /** The envelope's `correlationId`. */
  get correlationId() {
    return this._text(32);
  }
  /** The Kafka record key, bytes (a Uint8Array view; undefined when absent). */
  get key() {
    return this._span(40);
  }
  /** The Kafka record key as text. */
  get keyText() {
    return this._text(40);
  }
  /** The envelope's `data`, raw JSON bytes (a Uint8Array view into the batch). */
  get dataRaw() {
    return this._span(48) ?? utf8Encoder.encode('null');
  }
  /** The envelope's `data`, JSON text. */
  get dataText() {
    return this._text(48) ?? 'null';
  }
  /** The envelope's `data`, parsed. Bad JSON is a WeirError "invalid event data: ...". */
  data() {
    try {
      return JSON.parse(this.dataText);
    } catch (e) {
      throw new WeirError(`invalid event data: ${e.message}`);
    }
  }
  /** The handle the host uses to find this event's Kafka metadata (ctx.recordInfo()). */
  get origin() {
    return this._view.getUint32(this._at + 56, true);
  }
}

// ---------------------------------------------------------------------------------------
// Schema: names -> positions, built once per instance
// ---------------------------------------------------------------------------------------

/**
 * The pipeline's tables and topics with their name -> position maps.
 * @param {{name: string, columns: string[], primaryKey: string[]}[]} tables
 * @param {string[]} topics
 */
export class Schema {
  constructor(tables, topics) {
    this.tables = new Map();
    this.tableNames = tables.map((t) => t.name);
    tables.forEach((t, number) => {
      const positions = new Map(t.columns.map((c, i) => [c, i]));
      this.tables.set(t.name, {
        number,
        name: t.name,
        columns: t.columns,
        positions,
        primaryKey: t.primaryKey,
        keyPositions: t.primaryKey.map((c) => positions.get(c)),
      });
    });
    this.topicNames = topics;
    this.topics = new Map(topics.map((t, i) => [t, i]));
  }

  table(name) {
    const t = this.tables.get(name);
    if (t === undefined) {
      throw new WeirError(
        `table \`${name}\` is not declared in the pipeline (declared: ${this.tableNames.join(', ')})`,
      );
    }
    return t;
  }

  topic(name) {
    const n = this.topics.get(name);
    if (n === undefined) {
      throw new WeirError(
        `topic \`${name}\` is not in the pipeline's [sink.topics] allowed list (${this.topicNames.join(', ')})`,
      );
    }
    return n;
  }
}

function keyValues(t, key) {
  const parts = Array.isArray(key) ? key : [key];
  if (parts.length !== t.primaryKey.length) {
    throw new WeirError(
      `table \`${t.name}\` has a primary key of ${t.primaryKey.length} column(s), got ${parts.length}`,
    );
  }
  const out = new Array(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = toWitValue(parts[i], t.primaryKey[i]);
  return out;
}

function levelNumber(level) {
  if (typeof level === 'number') return level;
  const n = Level[level];
  if (n === undefined) throw new WeirError(`unknown log level ${level}`);
  return n;
}

// ---------------------------------------------------------------------------------------
// Ctx: what a handler uses, by names
// ---------------------------------------------------------------------------------------

/** Reads and writes the read model, emits events, for the event being handled. */
export class Ctx {
  constructor(backend, schema, input, origin) {
    this._backend = backend;
    this._schema = schema;
    this.input = input;
    this._origin = origin;
  }

  /**
   * The row of `table` whose primary key is `key` (a value, or an array of values in
   * primary-key order), as this batch's earlier writes left it: an object with every
   * declared column, or null.
   */
  get(table, key) {
    const t = this._schema.table(table);
    const found = this._backend.get(t.number, keyValues(t, key));
    if (found === undefined || found === null) return null;
    const values = found.values;
    const row = {};
    const js = new Array(values.length);
    for (let i = 0; i < t.columns.length; i++) row[t.columns[i]] = js[i] = fromWitValue(values[i]);
    // Remember what was read, so that writing the row back keeps each unchanged value's
    // exact WIT value (a float stays a float even when whole) without converting it again.
    row[READ] = { table: t.number, js, wit: values };
    return row;
  }

  /**
   * Inserts `row` (an object of column -> value) into `table`, or replaces the row with the
   * same primary key. Columns not given are NULL; a column the table lacks is an error.
   */
  upsert(table, row) {
    const t = this._schema.table(table);
    this._backend.upsert(this.input, { table: t.number, values: positional(t, row) });
  }

  /** Deletes the row of `table` whose primary key is `key`. */
  delete(table, key) {
    const t = this._schema.table(table);
    const values = new Array(t.columns.length).fill(NULL);
    const k = keyValues(t, key);
    for (let i = 0; i < k.length; i++) values[t.keyPositions[i]] = k[i];
    this._backend.delete(this.input, { table: t.number, values });
  }

  /**
   * Emits an event of type `eventType` whose `data` is `data` serialised as JSON, to
   * `topic` (which the pipeline must allow). `key`: string, Uint8Array or null.
   */
  emit(topic, key, eventType, data) {
    this.emitRaw(topic, key, eventType, utf8Encoder.encode(JSON.stringify(data)));
  }

  /** Emits an event whose `data` is already JSON (a string or UTF-8 bytes). */
  emitRaw(topic, key, eventType, data) {
    const number = this._schema.topic(topic);
    this._backend.emit(this.input, {
      topic: number,
      key: key === null || key === undefined ? undefined : typeof key === 'string' ? utf8Encoder.encode(key) : key,
      eventType,
      data: typeof data === 'string' ? utf8Encoder.encode(data) : data,
    });
  }

  /** Kafka metadata of the current event: { topic, partition, offset, headers: [[name, Uint8Array]] }. */
  recordInfo() {
    const m = this._backend.recordInfo(this._origin);
    return { topic: m.topic, partition: m.partition, offset: Number(m.offset), headers: m.headers };
  }

  /**
   * Logs through the host: `ctx.log(message)` at info, or `ctx.log(level, message)` with
   * `level` one of 'error', 'warn', 'info', 'debug', 'trace' (or 0-4).
   */
  log(level, message) {
    if (arguments.length < 2) this._backend.log(Level.info, String(level));
    else this._backend.log(levelNumber(level), String(message));
  }
}

function positional(t, row) {
  for (const column in row) {
    if (!t.positions.has(column)) {
      throw new WeirError(
        `table \`${t.name}\` has no column \`${column}\` (declared: ${t.columns.join(', ')})`,
      );
    }
  }
  const columns = t.columns;
  const values = new Array(columns.length);
  const read = row[READ];
  if (read !== undefined && read.table === t.number) {
    for (let i = 0; i < columns.length; i++) {
      const v = row[columns[i]];
      values[i] = v === read.js[i] ? read.wit[i] : toWitValue(v, columns[i]);
    }
  } else {
    for (let i = 0; i < columns.length; i++) values[i] = toWitValue(row[columns[i]], columns[i]);
  }
  return values;
}

// ---------------------------------------------------------------------------------------
// The batch loop
// ---------------------------------------------------------------------------------------

function failureOf(index, e) {
  let message;
  if (e instanceof Error) message = e.message || e.name;
  else if (typeof e === 'string') message = e;
  else {
    try {
      message = JSON.stringify(e) ?? String(e);
    } catch {
      message = String(e);
    }
  }
  return { index, error: { message, retryable: e instanceof WeirError ? e.retryable : false } };
}

/**
 * Calls `handler(event, ctx)` once per event of `batch`, in order, and returns the
 * failures. A handler that throws fails only that event.
 * @param {{bytes: Uint8Array, eventTypes: string[], index: Uint8Array}} batch
 * @param {(event: Event, ctx: Ctx) => void} handler
 * @param {object} backend get/upsert/delete/emit/recordInfo/log in WIT terms
 * @param {Schema} schema
 */
export function runBatch(batch, handler, backend, schema) {
  const index = batch.index;
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  const n = Math.floor(index.byteLength / ROW);
  const failures = [];
  // Test backends learn each event's outcome; the host learns it from the failures.
  const endEvent = backend.endEvent;
  for (let k = 0; k < n; k++) {
    const event = new Event(batch, view, k);
    let ok = true;
    try {
      const ctx = new Ctx(backend, schema, k, event.origin);
      const result = handler(event, ctx);
      if (result !== undefined && result !== null && typeof result.then === 'function') {
        throw new WeirError('handlers must be synchronous (the handler returned a Promise)');
      }
    } catch (e) {
      ok = false;
      failures.push(failureOf(k, e));
    }
    if (endEvent !== undefined) backend.endEvent(k, ok);
  }
  return failures;
}
