//! xsim's one integration-test binary: the simulator driven over plain HTTP.

mod common;
mod conformance;
mod faults_media;
mod oauth;
mod posts;
mod schema;
