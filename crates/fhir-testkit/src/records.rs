//! What the sandbox records of the requests it received, for tests to assert on: export
//! requests ([`Sandbox::export_requests`](crate::Sandbox::export_requests)) and token
//! requests ([`Sandbox::token_requests`](crate::Sandbox::token_requests)).

/// What a request to the export endpoints was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportRequestKind {
    /// A kick-off (`$export` at any level).
    KickOff,
    /// A GET of a status URL.
    Status,
    /// A DELETE of a status URL.
    Cancel,
    /// A file download, on either origin.
    File,
}

/// One request the export endpoints received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportRequestRecord {
    /// What it was for.
    pub kind: ExportRequestKind,
    /// The HTTP method.
    pub method: String,
    /// The URL path (no query: signed URLs keep their secret).
    pub path: String,
    /// Whether it carried an `Authorization` header.
    pub authorization: bool,
    /// Its `Range` header.
    pub range: Option<String>,
    /// Its `Accept` header.
    pub accept: Option<String>,
}

/// One request the token endpoint received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRequestRecord {
    /// The `grant_type` sent.
    pub grant_type: String,
    /// The authenticated (or claimed) client.
    pub client_id: Option<String>,
    /// Whether a token was issued.
    pub succeeded: bool,
}
