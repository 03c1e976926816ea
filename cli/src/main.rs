//! `twilio-oauth`: the command line of twilio-oauth, a thin front end on the `twilio_oauth`
//! crate. Run `twilio-oauth demo` to see every flow against a local server.

mod art;
mod cli;
mod commands;
#[cfg(feature = "local-server")]
mod demo;
mod device_login;
mod exit;
mod status;
mod store;
mod timefmt;
mod tokens;
mod ui;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command};
use exit::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            ui::print_failure(&format!("cannot start the async runtime: {e}"), None);
            return ExitCode::from(exit::OTHER);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(failure) => {
            ui::print_failure(&failure.message, failure.hint.as_deref());
            ExitCode::from(failure.code)
        }
    }
}

async fn run(command: Command) -> Result<(), Failure> {
    match command {
        #[cfg(feature = "local-server")]
        Command::Demo => demo::run().await,
        #[cfg(feature = "local-server")]
        Command::ServeMock(args) => commands::serve_mock(args).await,
        Command::Token(args) => tokens::token(args).await,
        Command::DeviceLogin(args) => device_login::run(args).await,
        Command::Refresh(args) => tokens::refresh(args).await,
        Command::Decode(args) => commands::decode(args),
        Command::Status(args) => status::status(args).await,
        Command::Logout(args) => status::logout(args).await,
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "twilio-oauth",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    }
}

/// Logs go to stderr: nothing by default, warnings with -v, debug with -vv; RUST_LOG wins.
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "off",
        1 => "warn",
        2 => "info,twilio_oauth=debug",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ui::stderr_is_tty())
        .try_init();
}
