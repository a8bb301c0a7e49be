//! Fuzzes the records reader: the first byte picks the format (even: CSV, odd: JSONL), the
//! rest is the file, as a user hands it in.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ycm::fuzzing::records(data);
});
