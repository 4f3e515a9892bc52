//! The `weir` command.

use clap::Parser;

fn main() {
    let cli = weir::cli::Cli::parse();
    match weir::app::main(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}
