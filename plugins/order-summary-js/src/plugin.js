// The seeds' CQRS read model, in JavaScript (twin of plugins/order-summary in Rust):
// `OrderPlaced` (or `OrderCreated`) inserts a row into `order_summaries` with status
// `pending`; `OrderShipped` sets `shipped` and `shipped_at`.
//
// Pure logic: no Wasm imports here, so `node --test` runs it against weir-sdk's TestHost.
// src/main.js turns it into the component's `handle` export.

import { WeirError, float } from '../../../guest-sdk/js/src/index.js';

const invalid = (why) => new WeirError(`invalid event data: ${why}`);

/** A JSON value as serde names it in "invalid type" errors, so failures read like the Rust twin's. */
function unexpected(v) {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return `boolean \`${v}\``;
    case 'number':
      return Number.isInteger(v) ? `integer \`${v}\`` : `floating point \`${v}\``;
    case 'string':
      return `string ${JSON.stringify(v)}`;
    default:
      return Array.isArray(v) ? 'sequence' : 'map';
  }
}

const wrongType = (v, expected) => invalid(`invalid type: ${unexpected(v)}, expected ${expected}`);

/** The data as an object, as serde requires of a struct. */
function struct(data, name) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw wrongType(data, `struct ${name}`);
  return data;
}

/**
 * The fields of `OrderPlaced` this projection reads, checked as the Rust twin's
 * `#[derive(Deserialize)]` does: type errors in document order, then missing fields.
 * Both seed shapes are accepted: `total` (OrderPlaced) and `totalAmount` (OrderCreated).
 */
function orderPlaced(data) {
  struct(data, 'OrderPlaced');
  let orderId;
  let userId = null;
  let itemCount = 0;
  let total;
  for (const field in data) {
    const v = data[field];
    switch (field) {
      case 'orderId':
        if (typeof v !== 'string') throw wrongType(v, 'a string');
        orderId = v;
        break;
      case 'userId':
        if (v !== null && typeof v !== 'string') throw wrongType(v, 'a string');
        userId = v;
        break;
      case 'items':
        if (!Array.isArray(v)) throw wrongType(v, 'a sequence');
        itemCount = v.length;
        break;
      case 'total':
      case 'totalAmount':
        if (total !== undefined) throw invalid('duplicate field `total`');
        if (typeof v !== 'number') throw wrongType(v, 'f64');
        total = v;
        break;
    }
  }
  if (orderId === undefined) throw invalid('missing field `orderId`');
  if (total === undefined) throw invalid('missing field `total`');
  return { orderId, userId, itemCount, total };
}

/** The `orderId` of an `OrderShipped`. */
function orderShipped(data) {
  const orderId = struct(data, 'OrderShipped').orderId;
  if (orderId === undefined) throw invalid('missing field `orderId`');
  if (typeof orderId !== 'string') throw wrongType(orderId, 'a string');
  return orderId;
}

/** Projects one order event into `order_summaries`. */
export function handle(event, ctx) {
  switch (event.eventType) {
    case 'OrderPlaced':
    case 'OrderCreated': {
      const order = orderPlaced(event.data());
      ctx.upsert('order_summaries', {
        id: order.orderId,
        user_id: order.userId,
        status: 'pending',
        total: float(order.total), // f64 as in the Rust twin, even when whole
        item_count: order.itemCount,
        created_at: event.timestampRfc3339,
      });
      return;
    }
    case 'OrderShipped': {
      const orderId = orderShipped(event.data());
      const row = ctx.get('order_summaries', orderId);
      if (row === null) throw new WeirError(`OrderShipped for unknown order ${orderId}`);
      row.status = 'shipped';
      row.shipped_at = event.timestampRfc3339;
      ctx.upsert('order_summaries', row);
      return;
    }
    // The pipeline routes only the types above; anything else is ignored on purpose.
    default:
      return;
  }
}
