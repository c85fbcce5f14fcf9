#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| namesrv_core::fuzzing::controller(data));
