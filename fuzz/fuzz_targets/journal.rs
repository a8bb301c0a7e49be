//! Fuzzes the sync journal reader: the input is a journal file, as a rerun of `sync apply
//! --journal` finds it (torn, cut, edited by hand or not a journal at all).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ycm::fuzzing::journal(data);
});
