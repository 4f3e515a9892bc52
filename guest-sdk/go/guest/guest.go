// Package guest exports a Go handler as a weir plugin: the `weir:plugin/projection`
// world, through the bindings `wit-bindgen go` generates (in internal/wit).
//
// A plugin's main package registers its handler from an init function in a file built
// only for wasip1, so that its logic stays testable natively with package weirtest:
//
//	//go:build wasip1
//
//	package main
//
//	import "weir.local/sdk/guest"
//
//	func init() { guest.Register(handle) }
//
// Build with guest-sdk/go/build-component.sh DIR OUT.wasm (GOOS=wasip1 GOARCH=wasm go
// build -buildmode=c-shared -ldflags=-checklinkname=0, then `wasm-tools component new
// --adapt` with the WASI preview1 reactor adapter; see docs/languages/go.md).
package guest

import (
	"weir.local/sdk/internal/wit/exports/export_wit_world"
	_ "weir.local/sdk/internal/wit/exports/wit_exports" // the //go:wasmexport functions
	"weir.local/sdk/weir"
)

// Register sets the function the plugin calls once per event.
func Register(h weir.Handler) { export_wit_world.SetHandler(h) }

// SetGCHeadroom sets how many bytes the heap may grow past the live objects of the last
// garbage collection before the SDK collects again, at the start of a call (the GC never
// runs on its own: see docs/languages/go.md). The default is 1 MiB; 0 collects at the
// start of every call (the least memory, the most time). Call it from an init function.
func SetGCHeadroom(bytes uint64) { export_wit_world.SetGCHeadroom(bytes) }

// Pipeline is the pipeline's name, as the host tells it.
func Pipeline() string { return export_wit_world.Pipeline() }
