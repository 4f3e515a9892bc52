//! The attribute macros of `weir-sdk`. Use them through `weir_sdk::projection`.

use proc_macro::TokenStream;
use quote::quote;
use syn::{ItemFn, parse_macro_input};

/// Marks `fn NAME(event: &Event, ctx: &mut Ctx) -> Result<(), Error>` as the plugin's
/// projection handler.
///
/// The function stays a plain function (call it from native tests). When compiling for
/// Wasm, the macro also exports the `weir:plugin/projection` world, whose batch entry point
/// calls the function once per event of the batch.
#[proc_macro_attribute]
pub fn projection(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[projection] takes no arguments",
        )
        .to_compile_error()
        .into();
    }
    let function = parse_macro_input!(item as ItemFn);
    let name = &function.sig.ident;
    quote! {
        #function

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
