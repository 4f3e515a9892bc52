#!/usr/bin/env node
// The order-summary projection as a careful Node user writes it by hand, in the seeds'
// style: kafkajs with eachBatch in, better-sqlite3 or pg out. One database transaction
// per 1,000 records of an eachBatch batch (weir's batch size), then their offsets
// committed to Kafka: at-least-once, like weir. The
// projection is the one of weir's Rust plugin (plugins/order-summary/src/lib.rs), into the
// table pipelines/order-summary.toml declares, created with the DDL and pragmas weir's sink
// uses (runtime/src/sink/sql/).
//
//   consumer.js --brokers HOST:PORT --topic T --group G (--sqlite PATH | --postgres URL)
//               --expect N [--idle-exit-ms 3000]
//
// Stops once N events are applied and committed (exit 0), or after --idle-exit-ms without
// a message (exit 1 if fewer than N were applied). Prints one JSON line on stdout:
// {"consumer":"node","sink":...,"events":...,"first_fetch_unix_ms":...,"last_commit_unix_ms":...}
// Everything else goes to stderr.
'use strict';

const { parseArgs } = require('node:util');
const { Kafka, logLevel } = require('kafkajs');

const TABLE = 'order_summaries';
// Records per database transaction, as weir's pipelines in the benchmarks.
const BATCH = 1000;
// Declared order, as in pipelines/order-summary.toml.
const COLUMNS = ['id', 'user_id', 'status', 'total', 'item_count', 'created_at', 'shipped_at'];
const SQLITE_TYPES = ['TEXT', 'TEXT', 'TEXT', 'NUMERIC', 'INTEGER', 'TEXT', 'TEXT'];
const PG_TYPES = ['text', 'text', 'text', 'numeric', 'bigint', 'timestamptz', 'timestamptz'];
// Joining the group and the first fetch may take a few seconds on a fresh broker: the
// idle clock gives the first message at least this long.
const FIRST_MESSAGE_GRACE_MS = 30000;
const RFC3339 = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/;

const log = (...args) => console.error('node-consumer:', ...args);

class Invalid extends Error {}

// The envelope's timestamp (RFC 3339 text or epoch milliseconds; the record's Kafka
// timestamp when absent) as RFC 3339 UTC text with milliseconds, as weir's SDK writes it.
function rfc3339ms(ts, message) {
  let date;
  if (ts === undefined || ts === null) date = new Date(Math.max(Number(message.timestamp) || 0, 0));
  else if (Number.isInteger(ts)) date = new Date(ts);
  else if (typeof ts === 'string' && RFC3339.test(ts)) date = new Date(ts);
  else throw new Invalid(`timestamp ${JSON.stringify(ts)} is neither RFC 3339 text nor milliseconds`);
  if (Number.isNaN(date.getTime())) throw new Invalid(`timestamp ${JSON.stringify(ts)} is out of range`);
  return date.toISOString();
}

function decode(message) {
  let envelope;
  try {
    envelope = JSON.parse(message.value);
  } catch (e) {
    throw new Invalid(`not a JSON event envelope: ${e.message}`);
  }
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
    throw new Invalid('not a JSON event envelope');
  }
  let eventType = envelope.eventType;
  if (!eventType) {
    const header = message.headers && message.headers['event-type'];
    eventType = header ? header.toString() : '';
    if (!eventType) throw new Invalid('event has no eventType');
  }
  // Flat events: the whole body is the data.
  const data = envelope.data === undefined || envelope.data === null ? envelope : envelope.data;
  return { eventType, data, ts: envelope.timestamp };
}

function orderIdOf(data) {
  if (data === null || typeof data !== 'object' || typeof data.orderId !== 'string') {
    throw new Invalid('invalid event data: orderId must be a string');
  }
  return data.orderId;
}

function placedRow(data, timestamp) {
  const id = orderIdOf(data);
  const userId = data.userId === undefined ? null : data.userId;
  if (userId !== null && typeof userId !== 'string') throw new Invalid('invalid event data: userId must be a string');
  const items = data.items === undefined ? [] : data.items;
  if (!Array.isArray(items)) throw new Invalid('invalid event data: items must be an array');
  const total = 'total' in data ? data.total : data.totalAmount; // OrderCreated: totalAmount
  if (typeof total !== 'number') throw new Invalid('invalid event data: total must be a number');
  return [id, userId, 'pending', total, items.length, timestamp, null];
}

// Applies the projection to one batch: { rows to upsert, events rejected }. Events are
// applied in order, each seeing the batch's earlier writes first, then the database (read
// once per batch for the orders shipped but not placed in the batch).
async function project(batch, sink) {
  const decoded = [];
  const placedHere = new Set();
  const missing = new Set();
  for (const message of batch.messages) {
    try {
      const { eventType, data, ts } = decode(message);
      if (eventType === 'OrderPlaced' || eventType === 'OrderCreated') {
        const row = placedRow(data, rfc3339ms(ts, message));
        placedHere.add(row[0]);
        decoded.push({ message, placed: row });
      } else if (eventType === 'OrderShipped') {
        const id = orderIdOf(data);
        if (!placedHere.has(id)) missing.add(id);
        decoded.push({ message, shipped: { id, ts: rfc3339ms(ts, message) } });
      }
      // Anything else is not routed to this projection: ignored.
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      log(`rejected ${batch.topic}/${batch.partition}@${message.offset}: ${e.message}`);
      decoded.push({ message });
    }
  }
  const stored = missing.size ? await sink.fetch([...missing]) : new Map();
  const rows = new Map(); // the batch's writes by order id
  let rejected = 0;
  for (const { message, placed, shipped } of decoded) {
    if (placed) {
      rows.set(placed[0], placed);
    } else if (shipped) {
      const existing = rows.get(shipped.id) || stored.get(shipped.id);
      if (!existing) {
        log(`rejected ${batch.topic}/${batch.partition}@${message.offset}: OrderShipped for unknown order ${shipped.id}`);
        rejected += 1;
        continue;
      }
      const row = existing.slice();
      row[2] = 'shipped';
      row[6] = shipped.ts;
      rows.set(shipped.id, row);
    } else {
      rejected += 1;
    }
  }
  return { rows: [...rows.values()], rejected };
}

// WAL, synchronous=NORMAL, one transaction per batch, upserts by prepared statement.
class SqliteSink {
  constructor(path) {
    const Database = require('better-sqlite3');
    this.name = 'sqlite';
    this.db = new Database(path, { timeout: 30000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    const cols = COLUMNS.map((c, i) => `"${c}" ${SQLITE_TYPES[i]}`).join(', ');
    this.db.exec(`CREATE TABLE IF NOT EXISTS "${TABLE}" (${cols}, PRIMARY KEY ("id"))`);
    const names = COLUMNS.map((c) => `"${c}"`).join(', ');
    const marks = COLUMNS.map(() => '?').join(', ');
    const updates = COLUMNS.map((c) => `"${c}" = excluded."${c}"`).join(', ');
    const upsert = this.db.prepare(
      `INSERT INTO "${TABLE}" (${names}) VALUES (${marks}) ON CONFLICT ("id") DO UPDATE SET ${updates}`,
    );
    this.select = this.db
      .prepare(`SELECT ${names} FROM "${TABLE}" WHERE "id" IN (SELECT value FROM json_each(?))`)
      .raw();
    this.writeAll = this.db.transaction((rows) => {
      for (const row of rows) upsert.run(row);
    });
  }
  async connect() {}
  async fetch(ids) {
    return new Map(this.select.all(JSON.stringify(ids)).map((r) => [r[0], r]));
  }
  async write(rows) {
    this.writeAll(rows);
  }
  async close() {
    this.db.close();
  }
}

// One set-based upsert per batch (INSERT ... SELECT FROM unnest ... ON CONFLICT), values
// sent as text arrays and cast to the column types, in one transaction.
class PostgresSink {
  constructor(url) {
    const { Client } = require('pg');
    this.name = 'postgres';
    this.client = new Client({ connectionString: url });
    const names = COLUMNS.map((c) => `"${c}"`).join(', ');
    const casts = COLUMNS.map((c, i) => `u."${c}"::${PG_TYPES[i]}`).join(', ');
    const arrays = COLUMNS.map((_, i) => `$${i + 1}::text[]`).join(', ');
    const updates = COLUMNS.map((c) => `"${c}" = EXCLUDED."${c}"`).join(', ');
    this.upsert =
      `INSERT INTO "${TABLE}" (${names}) SELECT ${casts} FROM unnest(${arrays}) AS u(${names}) ` +
      `ON CONFLICT ("id") DO UPDATE SET ${updates}`;
    this.select = `SELECT ${COLUMNS.map((c) => `"${c}"::text`).join(', ')} FROM "${TABLE}" WHERE "id" = ANY($1::text[])`;
    this.ddl = `CREATE TABLE IF NOT EXISTS "${TABLE}" (${COLUMNS.map((c, i) => `"${c}" ${PG_TYPES[i]}`).join(', ')}, PRIMARY KEY ("id"))`;
  }
  async connect() {
    await this.client.connect();
    await this.client.query(this.ddl);
  }
  async fetch(ids) {
    const res = await this.client.query({ name: 'fetch', text: this.select, values: [ids], rowMode: 'array' });
    return new Map(res.rows.map((r) => [r[0], r]));
  }
  async write(rows) {
    const columns = COLUMNS.map((_, i) => rows.map((r) => (r[i] === null ? null : String(r[i]))));
    await this.client.query('BEGIN');
    try {
      await this.client.query({ name: 'upsert', text: this.upsert, values: columns });
      await this.client.query('COMMIT');
    } catch (e) {
      await this.client.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }
  async close() {
    await this.client.end();
  }
}

// kafkajs logs go to stderr; stdout carries only the result line.
const stderrLogger = () => ({ namespace, level, label, log: entry }) => {
  const { message, ...extra } = entry;
  console.error(`kafkajs ${label} [${namespace}] ${message}`, JSON.stringify(extra));
};

async function main() {
  const { values: args } = parseArgs({
    options: {
      brokers: { type: 'string' },
      topic: { type: 'string' },
      group: { type: 'string' },
      sqlite: { type: 'string' },
      postgres: { type: 'string' },
      expect: { type: 'string' },
      'idle-exit-ms': { type: 'string', default: '3000' },
    },
  });
  const expect = Number(args.expect);
  const idleExitMs = Number(args['idle-exit-ms']);
  if (!args.brokers || !args.topic || !args.group || !Number.isInteger(expect) || !Number.isInteger(idleExitMs)
      || Boolean(args.sqlite) === Boolean(args.postgres)) {
    console.error('usage: consumer.js --brokers HOST:PORT --topic T --group G (--sqlite PATH | --postgres URL) --expect N [--idle-exit-ms 3000]');
    process.exit(2);
  }

  const sink = args.sqlite ? new SqliteSink(args.sqlite) : new PostgresSink(args.postgres);
  await sink.connect();
  const kafka = new Kafka({
    clientId: 'weir-bench-node',
    brokers: args.brokers.split(','),
    logLevel: logLevel.WARN,
    logCreator: stderrLogger,
  });
  // tansu holds every fetch for the full max-wait: the same setting as weir.
  const consumer = kafka.consumer({ groupId: args.group, maxWaitTimeInMs: 10 });
  await consumer.connect();
  await consumer.subscribe({ topics: [args.topic], fromBeginning: true });
  log(`consuming ${args.topic} as ${args.group} into ${sink.name}, expecting ${expect} events`);

  let applied = 0;
  let rejected = 0;
  let batches = 0;
  let firstFetch = null;
  let lastCommit = null;
  let lastMessage = Date.now();
  let failure = null;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  if (expect <= 0) finish();

  const idleTimer = setInterval(() => {
    const grace = firstFetch === null ? Math.max(idleExitMs, FIRST_MESSAGE_GRACE_MS) : idleExitMs;
    if (Date.now() - lastMessage > grace) {
      log(`idle for ${grace} ms with ${applied} of ${expect} events applied: giving up`);
      finish();
    }
  }, 50);
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    failure = payload.error;
    finish();
  });

  await consumer.run({
    autoCommit: false,
    // Offsets are resolved only once the batch is in the database, and committed right then.
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets, isRunning }) => {
      if (batch.messages.length === 0 || !isRunning() || applied >= expect) return;
      if (firstFetch === null) firstFetch = Date.now();
      lastMessage = Date.now();
      // The same batching as weir and the other baselines: tansu hands kafkajs 5,000 to
      // 11,000 records per fetch (it ignores maxBytesPerPartition), so the batch is
      // applied in transactions of at most BATCH records, each committed after it.
      for (let start = 0; start < batch.messages.length; start += BATCH) {
        const messages = batch.messages.slice(start, start + BATCH);
        const { rows, rejected: bad } = await project({ messages, topic: batch.topic, partition: batch.partition }, sink);
        if (rows.length) await sink.write(rows);
        resolveOffset(messages[messages.length - 1].offset);
        await commitOffsetsIfNecessary(uncommittedOffsets());
        lastCommit = Date.now();
        applied += messages.length;
        rejected += bad;
        batches += 1;
      }
      if (applied >= expect) finish();
    },
  });

  await finished;
  clearInterval(idleTimer);
  await consumer.disconnect();
  await sink.close();
  if (failure) {
    log(`consumer crashed: ${failure.stack || failure}`);
    process.exitCode = 2;
  }
  log(`${applied} events in ${batches} batches (${rejected} rejected)`);
  process.stdout.write(
    JSON.stringify({
      consumer: 'node',
      sink: sink.name,
      events: applied,
      first_fetch_unix_ms: firstFetch,
      last_commit_unix_ms: lastCommit,
    }) + '\n',
  );
  if (!failure && applied < expect) process.exitCode = 1;
}

main().catch((e) => {
  log(e.stack || e);
  process.exit(2);
});
