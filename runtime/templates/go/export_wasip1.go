//go:build wasip1

package main

import "weir.local/sdk/guest"

// Hands the handler to the SDK, which exports the `weir:plugin/projection` world. This
// file is built only for Wasm, so `go test` runs the handler natively.
func init() { guest.Register(handle) }
