//! `ioc`: the command-line interface. Thin on purpose: parse the command line, call ioc-core,
//! print. Everything else lives in ioc-core.

mod cli;
mod commands;
mod logging;
mod output;
mod typed;

use std::io::{self, Write};
use std::process::ExitCode;

use cli::Cli;
use commands::{Context, Failure};

fn main() -> ExitCode {
    // clap prints its own usage errors (exit 2) and --help/--version (exit 0).
    let cli = Cli::from_env();
    logging::init(cli.global.verbose, cli.global.quiet);
    if let cli::Command::Learn(args) = &cli.command {
        return commands::learn::main(args);
    }
    let context = Context::new(&cli.global);
    // Not `stdout().lock()`: a lock is not `Send`, and a concurrent start prints from its
    // worker threads (see `commands::runtime`).
    let mut out = io::BufWriter::new(io::stdout());
    let result = commands::run(&cli.command, &context, &mut out)
        .and_then(|()| out.flush().map_err(Failure::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `ioc list | head`: the reader left, which is not our failure.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(failure) => {
            report(&failure);
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Prints a failure on stderr, each line prefixed; a closed stderr is ignored, never a panic.
fn report(failure: &Failure) {
    let mut err = io::stderr().lock();
    for line in failure.to_string().lines() {
        let _ = writeln!(err, "ioc: {line}");
    }
}
