use std::fmt;

/// Why a handler failed for one event. Only that event fails: the rest of the batch
/// commits, and the host retries or dead-letters the failed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong, for the dead-letter record and the logs.
    pub message: String,
    /// Whether trying again may succeed (a transient condition). Bad input is not.
    pub retryable: bool,
}

impl Error {
    /// A permanent failure: retrying the same event gives the same result.
    pub fn new(message: impl Into<String>) -> Self {
        Error { message: message.into(), retryable: false }
    }

    /// A transient failure: the host may retry the event.
    pub fn retryable(message: impl Into<String>) -> Self {
        Error { message: message.into(), retryable: true }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::new(format!("invalid event data: {e}"))
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::new(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::new(message)
    }
}
