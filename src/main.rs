//! The `jobcenter` binary: parse the command line, load settings, run.

use clap::Parser;
use jobcenter::cli::Cli;
use jobcenter::config::Settings;

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
