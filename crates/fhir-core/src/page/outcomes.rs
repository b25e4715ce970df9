//! What a `resources()` stream does with the server's own words about a search: the
//! OperationOutcomes of `search.mode = outcome` entries, where a server says, for example,
//! that it ignored a parameter it does not support (so the matches are not what was asked).

use std::fmt;
use std::sync::Arc;

use http::{Method, StatusCode};
use url::Url;

use crate::error::Error;
use crate::outcome::OperationOutcome;

/// What a search's resource stream does with the server's outcome entries
/// (`search.mode = outcome`), set with
/// [`SearchRequest::outcomes`](crate::interactions::SearchRequest::outcomes).
///
/// The pages and entries streams and [`Page::outcomes`](crate::Page::outcomes) always show
/// them as they are; this is about `resources()`, which shows only matches.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum SearchOutcomes {
    /// The default: the stream ends with an [`ErrorKind::SearchOutcome`](crate::ErrorKind::SearchOutcome)
    /// error, before the matches of the page, when an outcome has an issue of severity
    /// `warning`, `error` or `fatal` (such as a parameter the server could not apply, which
    /// makes the matches wrong), or no issue this client can read. Outcomes whose issues are
    /// all of severity `information` pass.
    #[default]
    Fail,
    /// Every outcome (of any severity) goes to the callback; the stream goes on (an outcome
    /// entry that is not an OperationOutcome at all still ends it, with a decode error).
    Report(Arc<dyn Fn(&OperationOutcome) + Send + Sync>),
    /// Outcomes are not looked at.
    Ignore,
}

impl fmt::Debug for SearchOutcomes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Fail => "Fail",
            Self::Report(_) => "Report(..)",
            Self::Ignore => "Ignore",
        })
    }
}

impl SearchOutcomes {
    /// Reports every outcome to `callback` and goes on.
    pub fn report(callback: impl Fn(&OperationOutcome) + Send + Sync + 'static) -> Self {
        Self::Report(Arc::new(callback))
    }

    /// Whether outcomes must be read at all.
    pub(crate) fn reads_outcomes(&self) -> bool {
        !matches!(self, Self::Ignore)
    }

    /// Applies the policy to the outcomes of the page at `url`.
    pub(crate) fn apply(
        &self,
        outcomes: &[OperationOutcome],
        url: &Url,
        status: StatusCode,
    ) -> Result<(), Error> {
        match self {
            Self::Ignore => Ok(()),
            Self::Report(callback) => {
                outcomes.iter().for_each(|outcome| callback(outcome));
                Ok(())
            }
            Self::Fail => match outcomes.iter().find(|outcome| not_as_asked(outcome)) {
                Some(outcome) => Err(Error::search_outcome(outcome.clone())
                    .with_request(&Method::GET, url)
                    .with_status(status)),
                None => Ok(()),
            },
        }
    }
}

/// Whether an outcome says the search was not done as asked: an issue of severity warning
/// or worse, or no issue that could be read (an empty or malformed issue list), since the
/// server did not say it is harmless.
fn not_as_asked(outcome: &OperationOutcome) -> bool {
    outcome.issues().is_empty()
        || outcome
            .issues()
            .iter()
            .any(|issue| issue.severity != "information")
}
