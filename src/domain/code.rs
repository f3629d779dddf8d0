//! The one table of error codes: each code's wire spelling, HTTP status and default
//! message. Every layer names a failure by its [`Code`]; the HTTP layer answers
//! `{"error_code", "error_msg"}` from it, the engine prefixes a job's `fail_reason` with it,
//! and the OpenAPI descriptions spell codes through [`code!`](crate::domain::code::code).
//!
//! Policy: no code is spelled anywhere else. A check added later (a body too large, a
//! claim a token lacks) adds a row here and is answered by the one error mapping.

/// Declares [`Code`] and the `code!` macro (a code's spelling as a literal, for `concat!`
/// in documentation) from one list of rows: name, spelling, HTTP status, default message.
macro_rules! error_codes {
    ($($name:ident = $code:literal, $status:literal, $message:literal;)*) => {
        /// An error of the API, by what went wrong.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($name,)*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];

            /// The wire spelling, e.g. `GES.0001`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $code,)*
                }
            }

            /// The HTTP status answered with this code.
            pub fn http_status(self) -> u16 {
                match self {
                    $(Code::$name => $status,)*
                }
            }

            /// The message when nothing more specific is said.
            pub fn default_message(self) -> &'static str {
                match self {
                    $(Code::$name => $message,)*
                }
            }
        }

        /// The spelling of a code of the table as a string literal (for `concat!`).
        macro_rules! code {
            $(($name) => { $code };)*
        }
        pub(crate) use code;
    };
}

error_codes! {
    BadParameter = "GES.0001", 400, "a parameter breaks its rule";
    BadObjectPath = "GES.7011", 400, "the path is not a valid object path";
    BadGraphName = "GES.7012", 400,
        "the graph name must start with a letter and hold 4 to 50 letters, digits or _";
    NotJson = "GES.7016", 400, "the request body is not a JSON object";
    ObjectNotFound = "GES.7017", 400, "the object does not exist";
    MissingField = "GES.7049", 400, "a required field is missing";
    SchemaUnreadable = "GES.7070", 400, "the schema cannot be read";
    Unauthenticated = "APIG.0301", 401, "the token is missing, invalid or expired";
    Forbidden = "GES.7041", 403, "the token may not do this in this project";
    GraphNotFound = "GES.7000", 404, "the graph does not exist";
    JobNotFound = "GES.7007", 404, "the job does not exist";
    NoRoute = "APIG.0101", 404, "no API at this path";
    LogNotFound = "GES.7055", 404, "the file has no reject log";
    MethodNotAllowed = "APIG.0102", 405, "this path does not answer this method";
    GraphNotRunning = "GES.7001", 409,
        "the graph is not running, or another operation is in progress";
    BackupRunning = "GES.7002", 409, "a backup of the graph is running";
    GraphStopped = "GES.7003", 409, "the graph is stopping or stopped";
    LeaseNotHeld = "GES.7009", 409,
        "the lease is not held: it expired, was taken over, or the job has ended";
    JobStateConflict = "GES.7010", 409, "the job's status does not allow this";
    GraphNameTaken = "GES.7013", 409, "a graph of that name already exists";
    VersionNotGreater = "GES.7036", 409,
        "upgrade_version must be greater than the graph's current version";
    GraphNotStopped = "GES.7037", 409, "the graph is not stopped";
    GraphBeingCreated = "GES.7042", 409, "the graph is being created";
    GraphBeingDeleted = "GES.7054", 409, "the graph is being deleted";
    BodyTooLarge = "APIG.0201", 413, "the request body is larger than 256 KiB";
    TooManyStreams = "APIG.0308", 429, "this token has as many event streams open as it may";
    Internal = "GES.9999", 500, "internal error";
    Unavailable = "GES.7005", 503, "the service is temporarily unavailable; retry later";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_statuses_are_errors() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!((400..600).contains(&code.http_status()), "{code}");
            assert!(!code.default_message().is_empty());
        }
        assert_eq!(code!(BadParameter), Code::BadParameter.as_str());
    }
}
