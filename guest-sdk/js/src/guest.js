// The Wasm side: binds the SDK to the host's imports of world `weir:plugin/projection`.
// Only a component built by componentize-js can load this module (its imports are the
// WIT interfaces); test plugin logic with `weir-sdk/testing` instead.
//
//   import { projection } from 'weir-sdk/guest';
//   import { handle as onEvent } from './plugin.js';
//   export const handle = projection(onEvent);

import * as readModel from 'weir:plugin/read-model@0.1.1';
import * as topics from 'weir:plugin/topics@0.1.1';
import * as context from 'weir:plugin/context@0.1.1';

import { runBatch, Schema } from './index.js';

/** The host's imports, as the SDK's backend (the same signatures, so no wrappers). */
const hostBackend = {
  get: readModel.get,
  upsert: readModel.upsert,
  delete: readModel.delete,
  emit: topics.emit,
  recordInfo: context.recordInfo,
  log: context.log,
};

// The pipeline's tables and topics, asked once per instance (on the first batch: the host
// serves imports only during a call, not while the component initialises).
let schema;

/**
 * The `handle` export for a projection whose logic is `handler(event, ctx)`, called once
 * per event. Export the result as `handle` from the component's entry module.
 */
export function projection(handler) {
  return function handle(batch) {
    if (schema === undefined) schema = new Schema(context.tables(), context.topics());
    return runBatch(batch, handler, hostBackend, schema);
  };
}

/** The pipeline's name, from the host. */
export function pipelineName() {
  return context.pipeline();
}
