//! Fuzzes the update body parser (`UserUpdate::from_json`) and its round trip through the
//! wire text. Bodies reach ycm as UTF-8 text (the C ABI checks UTF-8 first), so other input
//! is skipped.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        ycm::fuzzing::update_body(text);
    }
});
