//! The `jobcenter` binary: parse the command line, load settings, run.

use clap::Parser;
use jobcenter::cli::Cli;
use jobcenter::config::Settings;

/// mimalloc rather than the system allocator: a list request allocates a few hundred small
/// strings and buffers, and glibc's malloc and free were a fifth of its instructions.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("jobcenter: {err:#}");
            return std::process::ExitCode::from(2);
        }
    };
    jobcenter::telemetry::init(&settings.log);
    match cli.run(settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "jobcenter failed");
            eprintln!("jobcenter: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
