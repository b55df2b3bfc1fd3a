//! Correlation ids: accepted from `X-Correlation-ID` when well-formed, generated otherwise, echoed
//! on every response and written to every log line. The rule itself is shared with the host
//! (`envelope::correlation`), which applies it before a request reaches a component.

pub use envelope::correlation::{accept_or_generate, generate, is_well_formed, HEADER};
