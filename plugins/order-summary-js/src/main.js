// The component's entry module: exports `handle` of world `weir:plugin/projection`.
// build.sh turns this file (and what it imports) into target/plugins/order-summary-js.wasm.
import { projection } from '../../../guest-sdk/js/src/guest.js';
import { handle as onEvent } from './plugin.js';

export const handle = projection(onEvent);
