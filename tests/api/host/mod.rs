//! The host against Spin's behaviour, through the `probe` fixture component.

mod key_value;
mod network;
mod requests;
