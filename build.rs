//! Generates the C header from `src/ffi/` with the pinned cbindgen, adding the
//! `YCM_VERSION_*` macros from Cargo.toml, into `$OUT_DIR/ycm.h`; with `YCM_WRITE_HEADER=1`
//! (`make header`) it also writes the committed `include/ycm.h`. Ordinary builds leave the
//! source tree alone, so `tests/header.rs` can fail when the committed header is stale.
//! All of that only with the `capi` feature (every Makefile build): a Rust dependent
//! neither builds cbindgen nor writes a header. The SONAME is not set here but by the
//! Makefile's `cargo rustc` line, the only one that links the cdylib.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "capi")]
    header::generate();
}

#[cfg(feature = "capi")]
mod header {
    use std::env;
    use std::fs;
    use std::path::PathBuf;

    pub fn generate() {
        let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
        for path in ["src/ffi", "cbindgen.toml", "Cargo.toml"] {
            println!("cargo:rerun-if-changed={path}");
        }
        println!("cargo:rerun-if-env-changed=YCM_WRITE_HEADER");
        let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
            .expect("cbindgen.toml is readable");
        let version = |key: &str| env::var(key).expect("set by cargo");
        config.after_includes = Some(format!(
        "\n/*\n The version of ycm this header belongs to (Cargo.toml's). `ycm_version()` returns the\n version of the library actually loaded; compare the two to catch a header/library mismatch.\n */\n#define YCM_VERSION_MAJOR {}\n#define YCM_VERSION_MINOR {}\n#define YCM_VERSION_PATCH {}\n#define YCM_VERSION_STRING \"{}\"",
        version("CARGO_PKG_VERSION_MAJOR"),
        version("CARGO_PKG_VERSION_MINOR"),
        version("CARGO_PKG_VERSION_PATCH"),
        version("CARGO_PKG_VERSION"),
    ));
        // Only src/ffi/ is the C surface: the Rust API's public items stay out of the header.
        // cbindgen follows the `mod` items of src/ffi/mod.rs to the other files.
        let builder = cbindgen::Builder::new()
            .with_config(config)
            .with_src(crate_dir.join("src/ffi/mod.rs"));
        let bindings = builder.generate().expect("cbindgen generates the header");
        let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("ycm.h");
        bindings.write_to_file(&out);
        if env::var("YCM_WRITE_HEADER").as_deref() == Ok("1") {
            let committed = crate_dir.join("include").join("ycm.h");
            fs::create_dir_all(committed.parent().expect("has a parent"))
                .expect("include/ is writable");
            fs::copy(&out, &committed).expect("include/ycm.h is writable");
        }
    }
}
