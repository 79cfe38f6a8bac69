//! One file per command: its arguments and how it runs. Each returns the process exit code.

pub mod atlas;
pub mod ca_files;
pub mod check;
pub mod explain;
pub mod init;
pub mod lock;
pub mod merge;
pub mod organization;
pub mod probe;
pub mod scan;
pub mod schema;
pub mod why;

use crate::cli::{Cli, Command};
use crate::error::AppError;

pub async fn run(cli: Cli) -> Result<i32, AppError> {
    match cli.command {
        Command::Probe(args) => probe::run(args).await,
        Command::Scan(args) => scan::run(args).await,
        Command::Check(args) => check::run(args).await,
        Command::Lock(args) => lock::run(args).await,
        Command::Init(args) => init::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Why(args) => why::run(args).await,
        Command::Merge(args) => merge::run(args).await,
    }
}
