//! Fuzzes the plan file reader: the input is a plan file, as `sync apply --plan` reads it
//! (written by `sync plan --out`, then kept, copied or edited before it is applied).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ycm::fuzzing::plan(data);
});
