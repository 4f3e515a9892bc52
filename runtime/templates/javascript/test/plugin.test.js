// Tests of the plugin logic, natively under Node (no Wasm, broker or weir): `npm test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { TestHost, testEvent } from '../weir-sdk/testing.js';
import { handle } from '../src/plugin.js';

test('counts events per aggregate', () => {
  const host = new TestHost().table('aggregates', ['id', 'last_event', 'events', 'updated_at'], ['id']);
  const placed = testEvent('OrderPlaced', { orderId: 'o1' }, { aggregateId: 'o1', timestampMs: 1_774_864_800_000 });
  const shipped = testEvent('OrderShipped', { orderId: 'o1' }, { aggregateId: 'o1', timestampMs: 1_774_868_400_000 });
  const orphan = testEvent('OrderPlaced', {});
  const results = host.run(handle, [placed, shipped, orphan]);
  assert.deepEqual(results.slice(0, 2), [{ ok: true }, { ok: true }]);
  assert.deepEqual(results[2], { ok: false, message: 'event has no aggregateId', retryable: false });
  assert.deepEqual(host.row('aggregates', 'o1'), {
    id: 'o1',
    last_event: 'OrderShipped',
    events: 2,
    updated_at: '2026-03-30T11:00:00.000Z',
  });
});
