//! Errors that stop a run before a verdict: they exit 2.

/// Exit code when the run could not be judged.
pub const EXIT_UNJUDGED: i32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad arguments or an invalid combination of them.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Uri(#[from] crate::uri::UriError),
    /// An unreadable or invalid policy; the message points into the file.
    #[error("{0}")]
    Policy(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Anything else that prevents judging the run (a failing git, an unreadable CA file).
    #[error("{0}")]
    Other(String),
}

impl AppError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        AppError::Io { context: context.into(), source }
    }

    pub fn exit_code(&self) -> i32 {
        EXIT_UNJUDGED
    }
}
