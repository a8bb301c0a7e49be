//! Fuzzes the mapping of an HTTP response to a result (`response::interpret`). An input is
//! `"<status>\n<body>"`; without a status line it is a body answered with 200.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = ycm::fuzzing::split_status(data);
    ycm::fuzzing::response(status, body);
});
