//! Fuzzes the token endpoint's answer: parsed as a grant (a 2xx) and as a refusal (a 400,
//! 401 or 403). The body is raw bytes, as it comes off the wire.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ycm::fuzzing::token_grant(data);
});
