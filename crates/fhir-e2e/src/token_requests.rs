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
    /// Refresh token presentations of a token presented before (counted by the token's
    /// digest, so two that arrive together count even if the server let both through).
    pub refresh_tokens_reused: u64,
}

/// The FHIR server's 401 answers since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unauthorized {
    /// How many.
    pub count: u64,
    /// How many of each reason (`The access token expired`, …).
    pub reasons: BTreeMap<String, u64>,
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

impl Sandbox {
    /// How many requests the FHIR server has answered 401 since it started (clients renew
    /// and retry a 401 once, so a run's failures alone would not show them).
    ///
    /// # Errors
    ///
    /// When the endpoint cannot be reached or answers something else.
    pub async fn unauthorized_requests(&self) -> Result<Unauthorized, String> {
        let body: serde_json::Value = reqwest::get(self.var("SANDBOX_DEV_UNAUTHORIZED_URL"))
            .await
            .map_err(|err| err.to_string())?
            .json()
            .await
            .map_err(|err| err.to_string())?;
        let count = body.get("unauthorized").and_then(serde_json::Value::as_u64);
        let reasons = body.get("reasons").and_then(serde_json::Value::as_object);
        match (count, reasons) {
            (Some(count), Some(reasons)) => Ok(Unauthorized {
                count,
                reasons: reasons
                    .iter()
                    .filter_map(|(reason, n)| Some((reason.clone(), n.as_u64()?)))
                    .collect(),
            }),
            _ => Err(format!("not a count of 401 answers: {body}")),
        }
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
        refresh_tokens_reused: number(body, "refresh_tokens_reused")?,
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
            "grants_revoked": 1,
            "refresh_tokens_reused": 2
        });
        let counts = parse(&body).unwrap();
        assert_eq!(counts.of("refresh_token").invalid_grant, 1);
        assert_eq!(counts.of("client_credentials"), GrantTypeCounts::default());
        assert_eq!((counts.total(), counts.grants_revoked), (6, 1));
        assert_eq!(counts.refresh_tokens_reused, 2);
        assert!(parse(&serde_json::json!({"grant_types": {}})).is_none());
    }
}
