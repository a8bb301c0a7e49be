//! The committed C header: the same as build.rs's fresh generation from the current sources
//! (in OUT_DIR; ordinary builds never touch include/), with version macros that match
//! Cargo.toml. `make header` rewrites it. Needs the `capi` feature (build.rs runs cbindgen
//! only then), which `make header-check` and `make rust-test` turn on.
#![cfg(feature = "capi")]

#[test]
fn committed_header_matches_a_fresh_generation() {
    let fresh = include_str!(concat!(env!("OUT_DIR"), "/ycm.h"));
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/ycm.h"))
        .expect("include/ycm.h exists");
    assert!(
        fresh == committed,
        "include/ycm.h is stale: run `make header` and commit it"
    );
}

#[test]
fn version_macros_match_cargo_toml() {
    let header = include_str!("../include/ycm.h");
    for (macro_name, value) in [
        ("YCM_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("YCM_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("YCM_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
        (
            "YCM_VERSION_STRING",
            concat!("\"", env!("CARGO_PKG_VERSION"), "\""),
        ),
    ] {
        let line = format!("#define {macro_name} {value}\n");
        assert!(header.contains(&line), "missing or wrong: {line}");
    }
    let version = unsafe { std::ffi::CStr::from_ptr(ycm::ffi::ycm_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn every_exported_function_is_declared_in_the_header() {
    let header = include_str!("../include/ycm.h");
    let ffi_dir = format!("{}/src/ffi", env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for entry in std::fs::read_dir(ffi_dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().filter(|l| l.contains("extern \"C\" fn ")) {
            let name = line.split("fn ").nth(1).unwrap().split('(').next().unwrap();
            assert!(
                header.contains(&format!("{name}(")),
                "{name} is not in the header"
            );
            count += 1;
        }
    }
    assert_eq!(count, 30, "the C ABI exports 30 functions");
}
