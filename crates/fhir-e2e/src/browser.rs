//! Plays the browser in the sandbox's login interaction: follows the authorize redirect,
//! posts the login form and returns the callback URL, keeping the cookies by hand (no
//! automatic redirects, so each step's status is checked).

use std::collections::BTreeMap;

use reqwest::Url;

use crate::Sandbox;

impl Sandbox {
    /// Logs `user` in at the authorization URL an app made (choosing `patient` when the
    /// user is a practitioner in a standalone launch) and returns the URL the server
    /// redirects the browser to: the app's callback with `code` and `state`.
    ///
    /// # Errors
    ///
    /// A step that does not answer with the redirect the interaction expects, by name.
    pub async fn log_in(
        &self,
        authorize: &str,
        user: &str,
        patient: Option<&str>,
    ) -> Result<String, String> {
        let issuer = Url::parse(self.var("SMART_AUTH_ISSUER")).map_err(|err| err.to_string())?;
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| err.to_string())?;
        let mut cookies = BTreeMap::new();
        let response = browser.get(authorize).send().await;
        let interaction = follow("authorize", response, &mut cookies, &issuer)?;
        let mut form = vec![("username", user)];
        if let Some(patient) = patient {
            form.push(("patient", patient));
        }
        let response = browser
            .post(format!("{interaction}/login"))
            .header("cookie", cookie_header(&cookies))
            .form(&form)
            .send()
            .await;
        let resume = follow("login", response, &mut cookies, &issuer)?;
        let response = browser
            .get(resume)
            .header("cookie", cookie_header(&cookies))
            .send()
            .await;
        follow("resume", response, &mut cookies, &issuer).map(String::from)
    }
}

/// Checks that `step` answered `303 See Other`, keeps its cookies and returns its
/// `Location`, resolved against the issuer.
fn follow(
    step: &str,
    response: reqwest::Result<reqwest::Response>,
    cookies: &mut BTreeMap<String, String>,
    issuer: &Url,
) -> Result<Url, String> {
    let response = response.map_err(|err| format!("{step}: {err}"))?;
    if response.status() != reqwest::StatusCode::SEE_OTHER {
        return Err(format!("{step}: answered {}", response.status()));
    }
    for value in response.headers().get_all("set-cookie") {
        if let Some((name, value)) = value
            .to_str()
            .ok()
            .and_then(|cookie| cookie.split(';').next())
            .and_then(|pair| pair.split_once('='))
        {
            cookies.insert(name.to_owned(), value.to_owned());
        }
    }
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| format!("{step}: no Location"))?;
    issuer
        .join(location)
        .map_err(|err| format!("{step}: Location {location:?}: {err}"))
}

fn cookie_header(cookies: &BTreeMap<String, String>) -> String {
    cookies
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ")
}
