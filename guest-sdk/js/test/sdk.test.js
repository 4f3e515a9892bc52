// The SDK's own tests: `node --test test/` in guest-sdk/js.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { WeirError, float, json, Json, rfc3339FromMs, _civilRfc3339, toWitValue, fromWitValue, runBatch, Schema } from '../src/index.js';
import { TestHost, testEvent, packBatch } from '../src/testing.js';

test('timestamps format as the Rust SDK does', () => {
  assert.equal(rfc3339FromMs(0), '1970-01-01T00:00:00.000Z');
  assert.equal(rfc3339FromMs(1_774_864_800_123), '2026-03-30T10:00:00.123Z');
  assert.equal(rfc3339FromMs(951_782_400_000), '2000-02-29T00:00:00.000Z');
  assert.equal(rfc3339FromMs(-1), '1969-12-31T23:59:59.999Z');
  assert.equal(rfc3339FromMs(253_402_300_799_999), '9999-12-31T23:59:59.999Z');
  assert.equal(rfc3339FromMs(253_402_300_800_000), '10000-01-01T00:00:00.000Z');
  assert.equal(rfc3339FromMs(-62_167_219_200_001), '-001-12-31T23:59:59.999Z');
  // The native fast path and the arithmetic agree wherever both apply.
  for (let i = 0; i < 20000; i++) {
    const ms = Math.round((Math.random() * 2 - 1) * 62_167_219_200_000 * (i % 2 ? 1 : 4));
    const inRange = ms >= -62_167_219_200_000 && ms <= 253_402_300_799_999;
    if (inRange) assert.equal(_civilRfc3339(ms), new Date(ms).toISOString(), String(ms));
  }
  for (const ms of [0, -1, 1, -62_167_219_200_000, 253_402_300_799_999]) assert.equal(_civilRfc3339(ms), rfc3339FromMs(ms));
});

test('the packed index is decoded field by field', () => {
  const seen = [];
  const host = new TestHost();
  const events = [
    testEvent('A', { x: 1 }, { id: 'e-1', timestampMs: 1_774_864_800_123, version: 3, aggregateId: 'agg', correlationId: 'corr', key: 'k1' }),
    testEvent('B', null, { rawData: '[1,2]', timestampMs: -5 }),
    testEvent('A', { y: 'é' }),
  ];
  host.run((e) => {
    seen.push({
      eventType: e.eventType, id: e.id, ts: e.timestampMs, iso: e.timestampRfc3339, version: e.version,
      aggregateId: e.aggregateId, correlationId: e.correlationId, key: e.keyText, keyBytes: e.key,
      data: e.data(), text: e.dataText, origin: e.origin,
    });
  }, events);
  assert.deepEqual(seen[0], {
    eventType: 'A', id: 'e-1', ts: 1_774_864_800_123, iso: '2026-03-30T10:00:00.123Z', version: 3,
    aggregateId: 'agg', correlationId: 'corr', key: 'k1', keyBytes: new TextEncoder().encode('k1'),
    data: { x: 1 }, text: '{"x":1}', origin: 0,
  });
  assert.equal(seen[1].eventType, 'B');
  assert.equal(seen[1].ts, -5);
  assert.equal(seen[1].id, undefined);
  assert.equal(seen[1].key, undefined);
  assert.deepEqual(seen[1].data, [1, 2]);
  assert.deepEqual(seen[2].data, { y: 'é' });
  assert.equal(seen[2].version, 1);
  assert.equal(seen[2].origin, 2);
});

test('absent data reads as null', () => {
  const batch = packBatch([{ eventType: 'X' }]);
  let got;
  runBatch(batch, (e) => (got = [e.data(), e.dataText]), {}, new Schema([], []));
  assert.deepEqual(got, [null, 'null']);
});

test('JS values become WIT values', () => {
  assert.deepEqual(toWitValue(null), { tag: 'null' });
  assert.deepEqual(toWitValue(undefined), { tag: 'null' });
  assert.deepEqual(toWitValue(true), { tag: 'boolean', val: true });
  assert.deepEqual(toWitValue(3), { tag: 'integer', val: 3n });
  assert.deepEqual(toWitValue(2n ** 60n), { tag: 'integer', val: 2n ** 60n });
  assert.deepEqual(toWitValue(2.5), { tag: 'float', val: 2.5 });
  assert.deepEqual(toWitValue(2 ** 60), { tag: 'float', val: 2 ** 60 });
  assert.deepEqual(toWitValue(float(3)), { tag: 'float', val: 3 });
  assert.deepEqual(toWitValue('s'), { tag: 'text', val: 's' });
  assert.deepEqual(toWitValue(new Date(0)), { tag: 'text', val: '1970-01-01T00:00:00.000Z' });
  assert.deepEqual(toWitValue({ a: [1] }), { tag: 'json', val: new TextEncoder().encode('{"a":[1]}') });
  assert.deepEqual(toWitValue(json('s')), { tag: 'json', val: new TextEncoder().encode('"s"') });
  assert.throws(() => toWitValue(NaN, 'c'), /column `c`/);
  assert.throws(() => toWitValue(float(Infinity), 'c'), /not a finite number/);
  assert.throws(() => toWitValue(new Date(NaN), 'c'), /invalid Date/);
  assert.throws(() => toWitValue(() => 1, 'c'), WeirError);
  assert.equal(fromWitValue({ tag: 'integer', val: 7n }), 7);
  assert.equal(fromWitValue({ tag: 'integer', val: 2n ** 60n }), 2n ** 60n);
  assert.deepEqual(fromWitValue({ tag: 'json', val: new TextEncoder().encode('{"a":1}') }).value, { a: 1 });
});

const kv = () => new TestHost().table('kv', ['k', 'v', 'n', 'doc'], ['k']).table('pairs', ['a', 'b', 'x'], ['a', 'b']).topic('out');

test('upsert, get, delete by names; a read row written back keeps its WIT values', () => {
  const h = kv();
  const results = h.run((e, ctx) => {
    if (e.eventType === 'put') ctx.upsert('kv', { k: 'a', v: float(2), n: 1, doc: { deep: true } });
    if (e.eventType === 'bump') {
      const row = ctx.get('kv', 'a');
      assert.ok(row.doc instanceof Json);
      assert.equal(row.v, 2);
      ctx.upsert('kv', { ...row, n: row.n + 1 });
    }
    if (e.eventType === 'pair') ctx.upsert('pairs', { a: 'x', b: 2, x: 'y' });
    if (e.eventType === 'drop') ctx.delete('pairs', ['x', 2]);
  }, [testEvent('put', {}), testEvent('bump', {}), testEvent('pair', {}), testEvent('drop', {})]);
  assert.ok(results.every((r) => r.ok));
  const [values] = [...h._rows[0].values()];
  assert.deepEqual(values[1], { tag: 'float', val: 2 });
  assert.deepEqual(values[2], { tag: 'integer', val: 2n });
  assert.deepEqual(h.row('kv', 'a').doc.value, { deep: true });
  assert.equal(h.rows('pairs').length, 0);
});

test('a failed event drops its writes and emits; later events still run', () => {
  const h = kv();
  const results = h.run((e, ctx) => {
    ctx.upsert('kv', { k: e.eventType });
    ctx.emit('out', e.eventType, 'Seen', { t: e.eventType });
    if (e.eventType === 'bad') throw WeirError.retryable('try later');
  }, [testEvent('good', {}), testEvent('bad', {}), testEvent('also', {})]);
  assert.deepEqual(results, [{ ok: true }, { ok: false, message: 'try later', retryable: true }, { ok: true }]);
  assert.deepEqual(h.rows('kv').map((r) => r.k), ['good', 'also']);
  assert.deepEqual(h.emitted, [
    { topic: 'out', key: 'good', eventType: 'Seen', data: { t: 'good' } },
    { topic: 'out', key: 'also', eventType: 'Seen', data: { t: 'also' } },
  ]);
});

test('mistakes are errors of that event, with clear messages', () => {
  const h = kv();
  const run = (f) => h.run(f, [testEvent('x', {})])[0];
  assert.match(run((e, ctx) => ctx.upsert('nope', {})).message, /table `nope` is not declared in the pipeline \(declared: kv, pairs\)/);
  assert.match(run((e, ctx) => ctx.upsert('kv', { k: 'a', color: 1 })).message, /table `kv` has no column `color`/);
  assert.match(run((e, ctx) => ctx.get('pairs', 'a')).message, /primary key of 2 column\(s\), got 1/);
  assert.match(run((e, ctx) => ctx.emit('elsewhere', null, 'T', {})).message, /topic `elsewhere` is not in/);
  assert.match(run((e) => e.data.call({ dataText: '{' })).message, /^invalid event data/);
  assert.match(run(async () => {}).message, /synchronous/);
  assert.deepEqual(run(() => { throw 'plain string'; }), { ok: false, message: 'plain string', retryable: false });
  assert.equal(run(() => { null.x; }).ok, false);
  assert.equal(h.rows('kv').length, 0);
});

test('log and recordInfo', () => {
  const h = kv();
  let info;
  h.run((e, ctx) => {
    ctx.log('warn', 'careful');
    ctx.log(3, 'detail');
    ctx.log('plain');
    info = ctx.recordInfo();
  }, [testEvent('x', {}), testEvent('y', {})]);
  const once = [{ level: 1, message: 'careful' }, { level: 3, message: 'detail' }, { level: 2, message: 'plain' }];
  assert.deepEqual(h.logs, [...once, ...once]);
  assert.equal(info.offset, 1);
});
