//! `xsim --listen 127.0.0.1:4010`: runs the X API simulator until interrupted.

use clap::Parser;
use xsim::{Profile, Sim, SimConfig};

#[derive(Parser)]
#[command(
    name = "xsim",
    about = "A local stand-in for the X API v2 and its OAuth endpoints"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = xsim::DEFAULT_LISTEN, env = "XSIM_LISTEN")]
    listen: std::net::SocketAddr,
    /// Rate-limit profile: standard, free or unlimited.
    #[arg(long, default_value = "standard", env = "XSIM_PROFILE")]
    profile: Profile,
    #[arg(long, default_value = xsim::DEFAULT_CLIENT_ID)]
    client_id: String,
    #[arg(long, default_value = xsim::DEFAULT_CLIENT_SECRET)]
    client_secret: String,
    #[arg(long, default_value = xsim::DEFAULT_CONSUMER_KEY)]
    consumer_key: String,
    #[arg(long, default_value = xsim::DEFAULT_CONSUMER_SECRET)]
    consumer_secret: String,
    #[arg(long, default_value = xsim::DEFAULT_APP_BEARER)]
    app_bearer_token: String,
    #[arg(long, default_value = xsim::DEFAULT_USERNAME)]
    username: String,
    #[arg(long, default_value_t = xsim::DEFAULT_USER_ID)]
    user_id: u64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let a = Args::parse();
    let config = SimConfig {
        listen: a.listen,
        client_id: a.client_id,
        client_secret: a.client_secret,
        consumer_key: a.consumer_key,
        consumer_secret: a.consumer_secret,
        app_bearer_token: a.app_bearer_token,
        default_username: a.username,
        default_user_id: a.user_id,
        profile: a.profile,
        ..SimConfig::default()
    };
    let sim = Sim::start(config).await?;
    eprintln!("xsim listening on {}", sim.base_url());
    let _ = tokio::signal::ctrl_c().await;
    sim.stop().await;
    Ok(())
}
