//! Fuzzes the configuration parser (`Config::from_json`, the C ABI's `config_json`).
//! Configurations reach ycm as UTF-8 text, so other input is skipped.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        ycm::fuzzing::config(text);
    }
});
