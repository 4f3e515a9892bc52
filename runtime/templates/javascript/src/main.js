// The component's entry module: exports `handle` of world `weir:plugin/projection`.
// build.sh turns this file (and what it imports) into plugin.wasm.
import { projection } from '../weir-sdk/guest.js';
import { handle as onEvent } from './plugin.js';

export const handle = projection(onEvent);
