module weir.local/sdk

go 1.27.1

require go.bytecodealliance.org/pkg v0.4.0

// The pkg module's source ships inside the wit-bindgen-go crate; the build script copies
// it to target/toolchains/go-pkg-v0.4.0 (see toolchain.sh). No module proxy.
replace go.bytecodealliance.org/pkg => ../../target/toolchains/go-pkg-v0.4.0
