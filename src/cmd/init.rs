use crate::cli::InitArgs;

use crate::error::AppError;
use crate::policy;

pub fn run(args: InitArgs) -> Result<i32, AppError> {
    let path = args.path.unwrap_or_else(|| policy::repository_root().join(policy::DEFAULT_FILE_NAME));
    if path.exists() && !args.force {
        return Err(AppError::Usage(format!(
            "{} already exists; not overwriting it (use --force to replace it)",
            path.display()
        )));
    }
    crate::output::write_atomic(&path, policy::STARTER.as_bytes())?;
    eprintln!(
        "wrote {}: list your clusters under `clusters:`, then run `mongo-preflight lock` to record their TLS floor \
         in mongo-preflight.lock, commit both, and run `mongo-preflight check`",
        path.display()
    );
    Ok(0)
}
