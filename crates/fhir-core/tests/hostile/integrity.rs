//! Items 7, 9 and 10: typed writes reach the wire byte for byte, a byte-order mark is
//! accepted, and raw JSON gives a lossless untyped read-modify-write.

use bytes::Bytes;
use fhir_core::{Client, DecodeError, EncodeError, RawJson, Resource};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::server::{Hostile, Reply};

/// An Observation as a model would encode it: `resourceType` first, decimals as written.
const OBSERVATION: &str = r#"{"resourceType":"Observation","id":"obs-1","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"mmol/L"},"component":[{"code":{"text":"a"},"valueQuantity":{"value":100.00}},{"code":{"text":"b"},"valueQuantity":{"value":0.000000001}},{"code":{"text":"c"},"valueQuantity":{"value":12345678901234567890.123456789}}]}"#;

/// A typed resource that encodes itself as fixed bytes, like a generated model.
#[derive(Debug)]
struct Model(&'static str);

impl Resource for Model {
    fn resource_type(&self) -> Option<&str> {
        Some("Observation")
    }
    fn id(&self) -> Option<&str> {
        Some("obs-1")
    }
    fn from_json_slice(_: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self(OBSERVATION))
    }
    fn to_json_vec(&self) -> Result<Vec<u8>, EncodeError> {
        Ok(self.0.as_bytes().to_vec())
    }
}

fn transaction_response(n: usize) -> Reply {
    let entry: Vec<Value> = (0..n)
        .map(|_| json!({"response": {"status": "200 OK"}}))
        .collect();
    Reply::json(
        200,
        &json!({"resourceType": "Bundle", "type": "transaction-response", "entry": entry}),
    )
}

/// The entries' resources of a wire body, read by serde_json as raw text (not by our code).
fn wire_resources(body: &[u8]) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Wire<'a> {
        #[serde(borrow)]
        entry: Vec<WireEntry<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct WireEntry<'a> {
        #[serde(borrow)]
        resource: Option<&'a RawValue>,
    }
    let wire: Wire<'_> = serde_json::from_slice(body).unwrap();
    wire.entry
        .iter()
        .filter_map(|entry| entry.resource.map(|raw| raw.get().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_typed_transaction_carries_each_resource_byte_for_byte() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, _| transaction_response(2)).await;
    let client = Client::new(&server.url("/fhir")).unwrap();
    let mut tx = client.transaction();
    tx.update_if_match(&Model(OBSERVATION), "2").unwrap();
    tx.create(&Model(OBSERVATION)).unwrap();
    let planned = tx.to_json_vec();

    tx.send().await.unwrap();

    let body = server.seen()[0].body.clone();
    assert_eq!(body, Bytes::from(planned), "to_json_vec is what is sent");
    assert!(body.starts_with(br#"{"resourceType":"Bundle","type":"transaction""#));
    let resources = wire_resources(&body);
    assert_eq!(
        resources[0], OBSERVATION,
        "the update's resource changed on the way"
    );
    // A create leaves out the id and nothing else.
    assert_eq!(resources[1], OBSERVATION.replace(r#""id":"obs-1","#, ""));
    for decimal in [
        "1.50",
        "100.00",
        "0.000000001",
        "12345678901234567890.123456789",
    ] {
        assert!(resources[1].contains(decimal), "{decimal} lost");
    }
}

#[tokio::test]
async fn the_planned_bundle_decodes_losslessly_as_raw_json() {
    let _serial = crate::support::serial().await;
    let client = Client::new("https://fhir.example.org/r4").unwrap();
    let mut tx = client.batch();
    tx.update(&Model(OBSERVATION)).unwrap();
    let raw: RawJson = tx.to_bundle().unwrap();
    assert_eq!(raw.as_str().as_bytes(), tx.to_json_vec());
    assert!(raw.as_str().contains("12345678901234567890.123456789"));
}

#[tokio::test]
async fn a_byte_order_mark_before_json_is_accepted() {
    let _serial = crate::support::serial().await;
    let with_bom = |status: u16, body: Value| {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(serde_json::to_vec(&body).unwrap());
        Reply::text(status, "application/fhir+json; charset=utf-8", bytes)
    };
    let server = Hostile::start(move |seen, _| match seen.uri.path() {
        "/fhir/Patient/p" => with_bom(200, json!({"resourceType": "Patient", "id": "p"})),
        "/fhir/Patient" => with_bom(
            200,
            json!({"resourceType": "Bundle", "type": "searchset",
                   "entry": [{"resource": {"resourceType": "Patient", "id": "p"}}]}),
        ),
        _ => with_bom(
            404,
            json!({"resourceType": "OperationOutcome",
                   "issue": [{"severity": "error", "code": "not-found", "diagnostics": "gone fishing"}]}),
        ),
    })
    .await;
    let client = Client::new(&server.url("/fhir")).unwrap();

    assert_eq!(
        client
            .read_json("Patient", "p")
            .send()
            .await
            .unwrap()
            .resource()["id"],
        "p"
    );
    assert_eq!(
        client
            .read_raw("Patient", "p")
            .send()
            .await
            .unwrap()
            .resource()
            .id(),
        Some("p")
    );
    let page = client.search_json("Patient").send().await.unwrap();
    assert_eq!(page.resources().unwrap().len(), 1);
    let err = client.read_json("Patient", "q").send().await.unwrap_err();
    assert_eq!(err.operation_outcome().unwrap().summary(), "gone fishing");
}

#[tokio::test]
async fn raw_json_read_modify_write_is_lossless_where_value_is_not() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|seen, _| {
        if seen.method == http::Method::GET {
            Reply::text(200, "application/fhir+json", OBSERVATION).with_header("etag", "W/\"4\"")
        } else {
            Reply::status(200)
        }
    })
    .await;
    let client = Client::new(&server.url("/fhir")).unwrap();

    let read = client
        .read_raw("Observation", "obs-1")
        .send()
        .await
        .unwrap();
    let version = read.meta().version_id().unwrap().to_owned();
    let mut observation = read.into_resource();
    observation.set("status", "amended").unwrap();
    client
        .update(&observation)
        .if_match(&version)
        .send()
        .await
        .unwrap();

    let value = client
        .read_json("Observation", "obs-1")
        .send()
        .await
        .unwrap()
        .into_resource();
    client.update(&value).send().await.unwrap();

    let seen = server.seen();
    assert_eq!(seen[1].header("if-match"), Some("W/\"4\""));
    assert_eq!(
        std::str::from_utf8(&seen[1].body).unwrap(),
        OBSERVATION.replace(r#""status":"final""#, r#""status":"amended""#)
    );
    // The documented loss of the Value path, which the raw path avoids.
    let lossy = std::str::from_utf8(&seen[3].body).unwrap();
    assert!(
        !lossy.contains("1.50") && !lossy.contains("12345678901234567890.123456789"),
        "{lossy}"
    );
}

#[tokio::test]
async fn a_patch_written_as_text_is_sent_byte_for_byte() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, _| Reply::status(200)).await;
    let client = Client::new(&server.url("/fhir")).unwrap();
    let text = r#"[{"op":"replace","path":"/valueQuantity/value","value":1.50}]"#;

    client
        .patch_json(
            "Observation",
            "obs-1",
            fhir_core::JsonPatch::from_text(text).unwrap(),
        )
        .send()
        .await
        .unwrap();

    let seen = &server.seen()[0];
    assert_eq!(seen.body, Bytes::from(text));
    assert_eq!(
        seen.header("content-type"),
        Some("application/json-patch+json")
    );
    assert!(fhir_core::JsonPatch::from_text(r#"{"op":"add"}"#).is_err());
}
