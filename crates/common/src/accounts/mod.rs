//! X accounts of a workspace: sealed credentials, the OAuth connect state, posting slots.
//! (The HTTP component and the refresher build on these; see the accounts issue.)

pub mod credentials;
pub mod oauth_state;
pub mod slots;
