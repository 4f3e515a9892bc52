module weir.local/plugins/order-summary-go

go 1.27.1

require weir.local/sdk v0.0.0

require go.bytecodealliance.org/pkg v0.4.0 // indirect

// Local modules only: the SDK from this repository, and the pkg module whose source ships
// inside the wit-bindgen-go crate (guest-sdk/go/toolchain.sh puts it in target/toolchains).
// No module proxy.
replace weir.local/sdk => ../../guest-sdk/go

replace go.bytecodealliance.org/pkg => ../../target/toolchains/go-pkg-v0.4.0
