//! The attribute macros of `weir-sdk`. Use them through `weir_sdk::projection`.

use proc_macro::TokenStream;
use quote::quote;
use syn::{ItemFn, parse_macro_input};

/// Marks `fn NAME(event: &Event, ctx: &mut Ctx) -> Result<(), Error>` as the plugin's
/// projection handler.
///
/// The function stays a plain function (call it from native tests). When compiling for
/// Wasm, the macro also exports the `weir:plugin/projection` world, whose batch entry point
/// calls the function once per event of the batch, and installs the SDK's small-object
/// allocator as the plugin's global allocator (free lists over the system allocator, which
/// makes the few allocations per event cheap). A plugin with its own `#[global_allocator]`
/// writes `#[projection(system_allocator)]` to leave it out.
#[proc_macro_attribute]
pub fn projection(attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr = proc_macro2::TokenStream::from(attr);
    let allocator = match attr.to_string().as_str() {
        "" => true,
        "system_allocator" => false,
        _ => {
            return syn::Error::new_spanned(attr, "#[projection] takes no arguments but `system_allocator`")
                .to_compile_error()
                .into();
        }
    };
    let function = parse_macro_input!(item as ItemFn);
    let name = &function.sig.ident;
    let allocator = allocator.then(|| {
        quote! {
            #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
            #[global_allocator]
            static __WEIR_ALLOCATOR: ::weir_sdk::__private::Allocator = ::weir_sdk::__private::Allocator::new();
        }
    });
    quote! {
        #function

        #allocator

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __WeirProjection;
            impl ::weir_sdk::__private::Guest for __WeirProjection {
                fn handle(
                    batch: ::weir_sdk::__private::Batch,
                ) -> ::std::vec::Vec<::weir_sdk::__private::Failure> {
                    ::weir_sdk::__private::run_batch(batch, #name)
                }
            }
            ::weir_sdk::__private::export_projection!(
                __WeirProjection with_types_in ::weir_sdk::__private::bindings
            );
        };
    }
    .into()
}
