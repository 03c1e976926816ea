//! `uniffi-bindgen`: generates the Kotlin and Swift bindings of this crate in library mode.

fn main() {
    uniffi::uniffi_bindgen_main()
}
