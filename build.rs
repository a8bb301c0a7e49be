//! Generates the C header `include/ycm.h` from `src/ffi/` with the pinned cbindgen, adding
//! the `YCM_VERSION_*` macros from Cargo.toml. The header is committed; `make header-check`
//! fails when the committed copy differs from a fresh generation.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    for path in ["src/ffi", "cbindgen.toml", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let version = |key: &str| env::var(key).expect("set by cargo");
    config.after_includes = Some(format!(
        "\n#define YCM_VERSION_MAJOR {}\n#define YCM_VERSION_MINOR {}\n#define YCM_VERSION_PATCH {}\n#define YCM_VERSION_STRING \"{}\"",
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
    let fresh = fs::read(&out).expect("header just written");
    let committed = crate_dir.join("include").join("ycm.h");
    if fs::read(&committed).ok().as_deref() != Some(fresh.as_slice()) {
        fs::create_dir_all(committed.parent().expect("has a parent"))
            .expect("include/ is writable");
        fs::write(&committed, &fresh).expect("include/ycm.h is writable");
    }
}
