//! The kick-off parameters, from the query or a `Parameters` body: checked as a server
//! would (UTC instants, known types, `_typeFilter` without result parameters), the ones it
//! cannot apply recorded for the error file.

use super::*;

/// The parameters of a kick-off, from the query or a `Parameters` body.
#[derive(Debug, Default)]
pub(super) struct Params {
    pub(super) output_format: Option<String>,
    pub(super) types: Option<Vec<String>>,
    pub(super) since: Option<String>,
    pub(super) until: Option<String>,
    pub(super) patients: Option<Vec<String>>,
    pub(super) type_filters: Vec<String>,
    pub(super) elements: Option<Vec<String>>,
    pub(super) ignored: Vec<String>,
}

impl Params {
    pub(super) fn add(&mut self, name: &str, value: String) -> Result<(), ResponseTemplate> {
        let list = |value: &str| -> Vec<String> {
            value
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        };
        match name {
            "_outputFormat" => self.output_format = Some(value),
            "_type" => self.types.get_or_insert_with(Vec::new).extend(list(&value)),
            "_since" => self.since = Some(utc_instant(name, &value)?),
            "_until" => self.until = Some(utc_instant(name, &value)?),
            "_typeFilter" => self.type_filters.push(value),
            "_elements" => self
                .elements
                .get_or_insert_with(Vec::new)
                .extend(list(&value)),
            "patient" => {
                let id = value.trim_start_matches("Patient/").to_owned();
                self.patients.get_or_insert_with(Vec::new).push(id);
            }
            other => self.ignored.push(other.to_owned()),
        }
        Ok(())
    }
}

/// `_since` / `_until` as the store writes `meta.lastUpdated` (UTC, whole seconds), so that
/// string order is time order.
pub(super) fn utc_instant(name: &str, value: &str) -> Result<String, ResponseTemplate> {
    let refuse = || {
        outcome(
            400,
            "invalid",
            &format!(
                "`{name}` must be an instant in UTC (YYYY-MM-DDThh:mm:ss[.sss]Z or +00:00); the sandbox compares no other offsets"
            ),
        )
    };
    let body = value
        .strip_suffix('Z')
        .or_else(|| value.strip_suffix("+00:00"))
        .ok_or_else(refuse)?;
    let whole = body.split('.').next().unwrap_or(body);
    let bytes = whole.as_bytes();
    let shape_ok = bytes.len() == 19
        && bytes.iter().enumerate().all(|(at, byte)| match at {
            4 | 7 => *byte == b'-',
            10 => *byte == b'T',
            13 | 16 => *byte == b':',
            _ => byte.is_ascii_digit(),
        });
    if shape_ok {
        Ok(format!("{whole}Z"))
    } else {
        Err(refuse())
    }
}

pub(super) fn parse_params(request: &Request) -> Result<Params, ResponseTemplate> {
    let mut params = Params::default();
    for (name, value) in request.url.query_pairs() {
        if name == "patient" {
            return Err(outcome(
                400,
                "invalid",
                "`patient` is sent in a POST `Parameters` body, not in the query",
            ));
        }
        params.add(&name, value.into_owned())?;
    }
    if request.method.as_str() != "POST" {
        return Ok(params);
    }
    let body: Value = serde_json::from_slice(&request.body).map_err(|err| {
        outcome(
            400,
            "structure",
            &format!("the body is not a Parameters resource: {err}"),
        )
    })?;
    if body["resourceType"] != "Parameters" {
        return Err(outcome(
            400,
            "invalid",
            "a POST kick-off needs a Parameters body",
        ));
    }
    for parameter in body["parameter"].as_array().into_iter().flatten() {
        let name = parameter["name"].as_str().unwrap_or_default();
        let value = [
            "valueString",
            "valueInstant",
            "valueCode",
            "valueUri",
            "valueDateTime",
        ]
        .iter()
        .find_map(|key| parameter[*key].as_str().map(str::to_owned))
        .or_else(|| {
            parameter["valueBoolean"]
                .as_bool()
                .map(|flag| flag.to_string())
        })
        .or_else(|| {
            parameter["valueReference"]["reference"]
                .as_str()
                .map(str::to_owned)
        });
        let Some(value) = value else {
            return Err(outcome(
                400,
                "invalid",
                &format!("the parameter `{name}` has no value the sandbox understands"),
            ));
        };
        params.add(name, value)?;
    }
    Ok(params)
}
