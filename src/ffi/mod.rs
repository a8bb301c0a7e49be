//! The C ABI, and nothing else: `extern "C"` functions that check their pointers, convert
//! C strings, run the Rust API inside one panic guard and report a [`ycm_status`] by value.
//! No business logic lives here. The header `include/ycm.h` is generated from these items
//! by cbindgen (see `build.rs`), so their doc comments are the C documentation.
//!
//! Conventions of every function: inputs are NUL-terminated UTF-8 and are copied (no pointer
//! is kept); outputs are written through the trailing out-parameters only when the returned
//! status is `YCM_OK`; every `_free` accepts NULL; no panic ever crosses the boundary.
//!
//! Safety, for every `unsafe extern "C"` function here: each pointer argument is NULL or
//! valid for the duration of the call (strings NUL-terminated, handles returned by ycm and
//! not yet freed, out-parameters writable). NULL is always detected and reported.

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)] // one Safety paragraph above covers every function

mod args;
mod cancel;
mod client;
mod fields;
mod info;
mod log_callback;
mod status;
mod sync;

pub use cancel::*;
pub use client::*;
pub use fields::*;
pub use info::*;
pub use log_callback::*;
pub use status::*;
pub use sync::*;
