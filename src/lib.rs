//! ycm: a client for the Yeastar Central Management (YCM) user API.
//!
//! The crate implements "Update the Information of a YCM User"
//! (`PUT /dm/open_api/v1/users/{userId}`) with every body rule checked before sending, bearer
//! authentication with static or self-managed tokens, the reads a careful update needs, and
//! retries, timeouts and TLS for production. It is also a C library (`ffi`, header
//! `include/ycm.h`) under the Python package.
//!
//! ```no_run
//! use ycm::{Auth, Client, Config, Secret, UserUpdate};
//! let config = Config::new("https://ycm.yeastar.com", Auth::AccessToken(Secret::new("eyJ...")))?;
//! let client = Client::new(config)?;
//! let done = client.update_user(13329, &UserUpdate::new().company("New Company Name"))?;
//! println!("updated, requestId {}", done.info.request_id);
//! # Ok::<(), ycm::Error>(())
//! ```

#![deny(missing_docs)]

mod account;
mod auth;
mod cancel;
mod client;
mod config;
pub mod errcodes;
mod error;
pub mod ffi;
pub mod fields;
mod fork;
#[doc(hidden)]
pub mod fuzzing;
mod gate;
pub mod logging;
mod net;
mod proxy;
mod resolver;
mod response;
mod secret;
mod shared_state;
pub mod sync;
mod token_cache;
mod transport;
mod user;

pub use account::{ListQuery, User, UserPage, UserType, MAX_PAGE_SIZE};
pub use cancel::Cancel;
pub use client::{Cancellable, Client, Read, Updated};
pub use config::{Auth, Config, ConfigKey, CONFIG_KEYS, CONFIG_OPTIONS};
pub use error::{CallInfo, Code, Error, Result};
pub use gate::RateLimit;
pub use secret::Secret;
pub use shared_state::{Scope, Status as SharedStatus};
pub use user::{PbxCreationLimit, UserUpdate, MAX_BODY_BYTES, MAX_PBX_CREATION_LIMIT};

/// The library version, `MAJOR.MINOR.PATCH`.
///
/// # Example
///
/// ```
/// assert_eq!(ycm::VERSION.split('.').count(), 3);
/// ```
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
