//! `xmp up` serves the app; `xmp migrate` applies the database migrations.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use xmp_host::{AppOptions, Runtime};

#[derive(Parser)]
#[command(
    name = "xmp",
    version,
    about = "A Spin-compatible runner for the X marketing platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the application described by a Spin manifest.
    Up {
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        #[arg(long = "runtime-config-file")]
        runtime_config_file: Option<PathBuf>,
        #[arg(long = "manifest", short = 'f', default_value = "spin.toml")]
        manifest: PathBuf,
        /// Where the embedded key-value store and the compile cache live.
        #[arg(long = "state-dir")]
        state_dir: Option<PathBuf>,
    },
    /// Apply migrations/NNNN_name.sql in order (idempotent, checksum-guarded).
    Migrate {
        #[arg(long = "database-url", env = "DATABASE_URL")]
        database_url: String,
        #[arg(long, default_value = "migrations")]
        dir: PathBuf,
    },
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Up {
            listen,
            runtime_config_file,
            manifest,
            state_dir,
        } => {
            let base = manifest.parent().map(PathBuf::from).unwrap_or_default();
            let state = state_dir.clone().unwrap_or_else(|| base.join(".spin"));
            let runtime = Runtime::new(Some(state.join("compiled")))?;
            let mut opts = AppOptions::new(manifest);
            opts.listen = listen;
            opts.runtime_config = runtime_config_file;
            opts.state_dir = state_dir;
            let app = xmp_host::start(&runtime, opts)
                .await
                .context("cannot start the app")?;
            println!("xmp: serving on http://{}", app.addr);
            app.run_until_signal().await;
            Ok(())
        }
        Command::Migrate { database_url, dir } => {
            let report = xmp_host::migrate::run(&database_url, &dir).await?;
            for m in &report.applied {
                println!("applied {m}");
            }
            println!(
                "{} applied, {} already up to date",
                report.applied.len(),
                report.already
            );
            Ok(())
        }
    }
}
