//! Checks of C arguments: NULL pointers, UTF-8 strings and out-parameters, each failure
//! naming the argument. Every pointer an `extern "C"` function touches goes through here.

use crate::error::{Code, Error, Result};
use std::ffi::{c_char, CStr, CString};

/// Reads a required NUL-terminated UTF-8 string.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for the call.
pub(crate) unsafe fn required_str<'a>(ptr: *const c_char, name: &'static str) -> Result<&'a str> {
    optional_str(ptr, name)?.ok_or_else(|| null_argument(name))
}

/// Reads an optional NUL-terminated UTF-8 string (NULL is `None`).
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for the call.
pub(crate) unsafe fn optional_str<'a>(
    ptr: *const c_char,
    name: &'static str,
) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(ptr)
        .to_str()
        .map(Some)
        .map_err(|_| Error::new(Code::InvalidUtf8, format!("{name} is not valid UTF-8")))
}

/// Borrows a required object.
///
/// # Safety
/// `ptr` is NULL or points to a live `T`.
pub(crate) unsafe fn required<'a, T>(ptr: *const T, name: &'static str) -> Result<&'a T> {
    ptr.as_ref().ok_or_else(|| null_argument(name))
}

/// Checks that an out-parameter is not NULL.
pub(crate) fn out_param<T>(ptr: *mut T, name: &'static str) -> Result<*mut T> {
    if ptr.is_null() {
        Err(null_argument(name))
    } else {
        Ok(ptr)
    }
}

/// An owned C string for an out-parameter, freed with `ycm_string_free`.
pub(crate) fn owned_c_string(text: String) -> Result<*mut c_char> {
    CString::new(text)
        .map(CString::into_raw)
        .map_err(|_| Error::new(Code::Internal, "internal error: JSON text held a NUL byte"))
}

fn null_argument(name: &'static str) -> Error {
    Error::new(Code::NullArgument, format!("{name} must not be NULL"))
}
