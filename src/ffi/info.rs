//! Static information: code names and descriptions, and the library version. The strings
//! are built once and live for the whole process; callers never free them.

use crate::error::Code;
use std::ffi::{c_char, CStr, CString};
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

/// A `ycm_code` as C passes it: the raw number, so that a value outside the enum is not
/// undefined behaviour here. The header declares the parameter as `enum ycm_code` (see the
/// rename in cbindgen.toml); the two have the same size and ABI.
#[repr(transparent)]
pub struct ycm_code_value(pub u32);

/// The index in the text tables of a code number, if it is a code.
fn index(code: ycm_code_value) -> Option<usize> {
    let code = Code::from_number(code.0)?;
    Code::ALL.iter().position(|c| *c == code)
}

/// Returned for a number that is not a `ycm_code`.
const UNKNOWN: &CStr = c"YCM_ERR_UNKNOWN";

/// The name of a code, for example "YCM_ERR_TIMEOUT"; "YCM_ERR_UNKNOWN" for a number that
/// is not a `ycm_code`. The string is static: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn ycm_code_name(code: ycm_code_value) -> *const c_char {
    index(code).map_or(UNKNOWN.as_ptr(), |i| texts().names[i].as_ptr())
}

/// One sentence describing a code ("Unknown code." for a number that is not a
/// `ycm_code`). The string is static: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn ycm_code_description(code: ycm_code_value) -> *const c_char {
    index(code).map_or(c"Unknown code.".as_ptr(), |i| {
        texts().descriptions[i].as_ptr()
    })
}

/// The library version, "MAJOR.MINOR.PATCH" (the header's `YCM_VERSION_*` macros give the
/// version compiled against). The string is static: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn ycm_version() -> *const c_char {
    texts().version.as_ptr()
}
