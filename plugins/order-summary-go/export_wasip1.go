//go:build wasip1

package main

import "weir.local/sdk/guest"

// Hands the handler to the SDK, which exports the `weir:plugin/projection` world.
func init() { guest.Register(handle) }
