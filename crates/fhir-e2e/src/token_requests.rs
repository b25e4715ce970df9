//! The authorization server's count of token requests (`GET /dev/token-requests`), by grant
//! type and outcome: how tests check that a fleet presented each refresh token once.

use std::collections::BTreeMap;

use crate::Sandbox;

/// How many token requests of one grant type the authorization server answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GrantTypeCounts {
    /// Answered with tokens.
    pub succeeded: u64,
    /// Refused, for any reason.
    pub failed: u64,
    /// Refused with `invalid_grant` (for `refresh_token`: a used, revoked or expired one).
    pub invalid_grant: u64,
}

/// The token requests the authorization server has answered since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRequests {
    /// By `grant_type`, such as `refresh_token` or `authorization_code`.
    pub grant_types: BTreeMap<String, GrantTypeCounts>,
    /// Grants revoked, such as the one whose used refresh token was presented again.
    pub grants_revoked: u64,
}

impl TokenRequests {
    /// The counts for `grant_type` (zero when none was made).
    pub fn of(&self, grant_type: &str) -> GrantTypeCounts {
        self.grant_types
            .get(grant_type)
            .copied()
            .unwrap_or_default()
    }

    /// Every token request, of every grant type and outcome.
    pub fn total(&self) -> u64 {
        self.grant_types
            .values()
            .map(|counts| counts.succeeded + counts.failed)
            .sum()
    }
}

impl Sandbox {
    /// The token requests the authorization server has answered so far.
    ///
    /// # Errors
    ///
    /// When the endpoint cannot be reached or answers something else.
    pub async fn token_requests(&self) -> Result<TokenRequests, String> {
        let body: serde_json::Value = reqwest::get(self.var("SANDBOX_DEV_TOKEN_REQUESTS_URL"))
            .await
            .map_err(|err| err.to_string())?
            .json()
            .await
            .map_err(|err| err.to_string())?;
        parse(&body).ok_or_else(|| format!("not a count of token requests: {body}"))
    }
}

fn parse(body: &serde_json::Value) -> Option<TokenRequests> {
    let number = |value: &serde_json::Value, name: &str| value.get(name)?.as_u64();
    let mut grant_types = BTreeMap::new();
    for (grant_type, counts) in body.get("grant_types")?.as_object()? {
        grant_types.insert(
            grant_type.clone(),
            GrantTypeCounts {
                succeeded: number(counts, "succeeded")?,
                failed: number(counts, "failed")?,
                invalid_grant: number(counts, "invalid_grant")?,
            },
        );
    }
    Some(TokenRequests {
        grant_types,
        grants_revoked: number(body, "grants_revoked")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_read_and_summed() {
        let body = serde_json::json!({
            "grant_types": {
                "refresh_token": {"succeeded": 3, "failed": 2, "invalid_grant": 1},
                "authorization_code": {"succeeded": 1, "failed": 0, "invalid_grant": 0}
            },
            "grants_revoked": 1
        });
        let counts = parse(&body).unwrap();
        assert_eq!(counts.of("refresh_token").invalid_grant, 1);
        assert_eq!(counts.of("client_credentials"), GrantTypeCounts::default());
        assert_eq!((counts.total(), counts.grants_revoked), (6, 1));
        assert!(parse(&serde_json::json!({"grant_types": {}})).is_none());
    }
}
