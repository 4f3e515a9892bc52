// Tests of the plugin logic: `node --test test/` (no broker, no weir).
// Every scenario runs twice: natively (the plugin's function against weir-sdk's TestHost)
// and, when target/plugins/order-summary-js.wasm is built, through the component itself
// (transpiled by jco, its imports served by the same TestHost).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { TestHost, testEvent } from '../../../guest-sdk/js/src/testing.js';
import { loadComponent, canLoadComponents, repo } from '../../../guest-sdk/js/src/component.js';
import { handle } from '../src/plugin.js';

const wasm = join(repo, 'target/plugins/order-summary-js.wasm');
// The component must be newer than every source it is built from, or it would test old code.
const sources = [join(repo, 'plugins/order-summary-js/src'), join(repo, 'guest-sdk/js/src')]
  .flatMap((d) => readdirSync(d).map((f) => join(d, f)));
const componentSkip = !existsSync(wasm)
  ? 'not built: run plugins/order-summary-js/build.sh'
  : !canLoadComponents()
    ? 'no jco in target/toolchains/js: run plugins/order-summary-js/build.sh'
    : sources.some((f) => statSync(f).mtimeMs > statSync(wasm).mtimeMs)
      ? 'stale: sources changed since the build; run plugins/order-summary-js/build.sh'
      : false;
const component = componentSkip ? undefined : await loadComponent(wasm);

const modes = [
  { name: 'native', run: (h, events) => h.run(handle, events) },
  {
    name: 'component',
    skip: componentSkip,
    run: (h, events) => h.runComponent(component, events),
  },
];

const host = () =>
  new TestHost().table(
    'order_summaries',
    ['id', 'user_id', 'status', 'total', 'item_count', 'created_at', 'shipped_at'],
    ['id'],
  );

const placed = (id) =>
  testEvent(
    'OrderPlaced',
    {
      orderId: id,
      userId: 'user-456',
      items: [{ productId: 'prod-789', quantity: 2, price: 29.99 }],
      total: 59.98,
    },
    { timestampMs: 1_774_864_800_000 },
  );

for (const { name, skip, run } of modes) {
  describe(name, { skip }, () => {
    test('placed then shipped in one batch', () => {
      const h = host();
      const shipped = testEvent('OrderShipped', { orderId: 'ord-123' }, { timestampMs: 1_774_868_400_000 });
      assert.deepEqual(run(h, [placed('ord-123'), shipped]), [{ ok: true }, { ok: true }]);
      assert.deepEqual(h.row('order_summaries', 'ord-123'), {
        id: 'ord-123',
        user_id: 'user-456',
        status: 'shipped',
        total: 59.98,
        item_count: 1,
        created_at: '2026-03-30T10:00:00.000Z',
        shipped_at: '2026-03-30T11:00:00.000Z',
      });
    });

    test('shipped in a later batch reads the committed row', () => {
      const h = host();
      run(h, [placed('ord-1')]);
      assert.deepEqual(run(h, [testEvent('OrderShipped', { orderId: 'ord-1', carrier: 'DHL' })]), [{ ok: true }]);
      assert.equal(h.row('order_summaries', 'ord-1').status, 'shipped');
      assert.equal(h.row('order_summaries', 'ord-1').shipped_at, '1970-01-01T00:00:00.000Z');
    });

    test('OrderCreated shape is accepted', () => {
      const h = host();
      const created = testEvent('OrderCreated', {
        orderId: 'ORD-12345',
        userId: 'USR-123',
        totalAmount: 99.99,
        items: [],
      });
      assert.deepEqual(run(h, [created]), [{ ok: true }]);
      const row = h.row('order_summaries', 'ORD-12345');
      assert.equal(row.total, 99.99);
      assert.equal(row.item_count, 0);
      assert.equal(row.shipped_at, null);
    });

    test('a whole total is still written as a float, and stays one after shipping', () => {
      const h = host();
      const e = testEvent('OrderPlaced', { orderId: 'o', total: 100, items: [1, 2, 3] });
      run(h, [e, testEvent('OrderShipped', { orderId: 'o' })]);
      // TestHost keeps WIT values: look at the stored one.
      const [values] = [...h._rows[0].values()];
      assert.deepEqual(values[3], { tag: 'float', val: 100 });
      assert.deepEqual(values[4], { tag: 'integer', val: 3n });
    });

    test('missing userId is NULL', () => {
      const h = host();
      run(h, [testEvent('OrderPlaced', { orderId: 'o', total: 1.5 })]);
      assert.equal(h.row('order_summaries', 'o').user_id, null);
      assert.equal(h.row('order_summaries', 'o').item_count, 0);
    });

    test('shipping an unknown order fails alone', () => {
      const h = host();
      const results = run(h, [testEvent('OrderShipped', { orderId: 'nope' }), placed('ord-1')]);
      assert.equal(results[0].ok, false);
      assert.match(results[0].message, /unknown order nope/);
      assert.equal(results[0].retryable, false);
      assert.deepEqual(results[1], { ok: true });
      assert.equal(h.rows('order_summaries').length, 1);
    });

    test('bad data is an error for that event, not a crash', () => {
      const h = host();
      const results = run(h, [
        testEvent('OrderPlaced', { orderId: 5 }),
        testEvent('OrderPlaced', null, { rawData: '{not json' }),
        testEvent('OrderPlaced', { orderId: 'o', total: 'lots' }),
        testEvent('OrderPlaced', { orderId: 'o', total: 1, items: null }),
        testEvent('OrderPlaced', { orderId: 'o', total: 1, totalAmount: 2 }),
        testEvent('OrderPlaced', [1, 2]),
        testEvent('OrderShipped', null),
        placed('ok'),
      ]);
      for (const r of results.slice(0, 7)) {
        assert.equal(r.ok, false);
        assert.match(r.message, /^invalid event data/, r.message);
      }
      assert.deepEqual(results[7], { ok: true });
      assert.deepEqual(h.rows('order_summaries').map((r) => r.id), ['ok']);
    });

    test('failures read like the Rust twin\'s serde errors (without the position)', () => {
      const h = host();
      const messages = run(h, [
        testEvent('OrderPlaced', { orderId: 5, total: 1 }),
        testEvent('OrderPlaced', 'just a string'),
        testEvent('OrderPlaced', { orderId: 'o', total: '12' }),
        testEvent('OrderPlaced', { orderId: 'o', total: 1, items: null }),
        testEvent('OrderPlaced', { userId: 'u', total: 1 }),
        testEvent('OrderPlaced', { orderId: 'o' }),
        testEvent('OrderPlaced', { orderId: 'o', userId: 7.5, total: 1 }),
        testEvent('OrderCreated', { orderId: 'o', total: 1, totalAmount: 2 }),
        testEvent('OrderShipped', { carrier: 'DHL' }),
      ]).map((r) => r.message);
      assert.deepEqual(messages, [
        'invalid event data: invalid type: integer `5`, expected a string',
        'invalid event data: invalid type: string "just a string", expected struct OrderPlaced',
        'invalid event data: invalid type: string "12", expected f64',
        'invalid event data: invalid type: null, expected a sequence',
        'invalid event data: missing field `orderId`',
        'invalid event data: missing field `total`',
        'invalid event data: invalid type: floating point `7.5`, expected a string',
        'invalid event data: duplicate field `total`',
        'invalid event data: missing field `orderId`',
      ]);
    });

    test('other event types are ignored', () => {
      const h = host();
      assert.deepEqual(run(h, [testEvent('OrderCancelled', { orderId: 'x' })]), [{ ok: true }]);
      assert.equal(h.rows('order_summaries').length, 0);
    });
  });
}
