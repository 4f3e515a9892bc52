module weir.local/plugins/{{name}}

go 1.27.1

require weir.local/sdk v0.0.0

require go.bytecodealliance.org/pkg v0.4.0 // indirect

// Local modules only, so the build needs no Go module proxy: the weir Go SDK, and the pkg
// module its generated bindings import, whose copy {{sdk}}/go/toolchain.sh installs.
replace weir.local/sdk => {{sdk}}/go

replace go.bytecodealliance.org/pkg => {{sdk}}/../target/toolchains/go-pkg-v0.4.0
