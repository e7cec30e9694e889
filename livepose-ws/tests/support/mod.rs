//! What livepose-ws's own tests share that takes its types (an in-process `Server`):
//! livepose-test-support depends on no livepose crate, so these stay here (`mod support;`).
//! `http`: raw HTTP to a `Server`; `hardening`: what the hardening tests (issue 23) share.
#![allow(dead_code)] // each test file uses part of it

pub mod hardening;
pub mod http;
