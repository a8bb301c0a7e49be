//! Static information: code names and descriptions, and the library version. The strings
//! are built once and live for the whole process; callers never free them.

use super::status::ycm_code;
use crate::error::Code;
use std::ffi::{c_char, CString};
use std::sync::OnceLock;

struct Texts {
    names: Vec<CString>,
    descriptions: Vec<CString>,
    version: CString,
}

fn texts() -> &'static Texts {
    static TEXTS: OnceLock<Texts> = OnceLock::new();
    TEXTS.get_or_init(|| {
        let c = |s: &str| CString::new(s).unwrap_or_default();
        Texts {
            names: Code::ALL.iter().map(|code| c(code.name())).collect(),
            descriptions: Code::ALL.iter().map(|code| c(code.description())).collect(),
            version: c(crate::VERSION),
        }
    })
}

fn index(code: ycm_code) -> usize {
    let code = code.to_code();
    Code::ALL.iter().position(|c| *c == code).unwrap_or(0)
}

/// The name of a code, for example "YCM_ERR_TIMEOUT". The string is static: never free it.
/// Thread-safe. `code` must be a `ycm_code` value.
#[no_mangle]
pub extern "C" fn ycm_code_name(code: ycm_code) -> *const c_char {
    texts().names[index(code)].as_ptr()
}

/// One sentence describing a code. The string is static: never free it. Thread-safe.
/// `code` must be a `ycm_code` value.
#[no_mangle]
pub extern "C" fn ycm_code_description(code: ycm_code) -> *const c_char {
    texts().descriptions[index(code)].as_ptr()
}

/// The library version, "MAJOR.MINOR.PATCH" (the header's `YCM_VERSION_*` macros give the
/// version compiled against). The string is static: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn ycm_version() -> *const c_char {
    texts().version.as_ptr()
}
