//! `cargo xtask corpus [--patients N] [--out DIR] [--sorted-keys]`: writes a deterministic, realistic clinical
//! corpus for the model benchmarks, in the two forms Bulk Data and Synthea deliver: one NDJSON
//! file per resource type (one resource per line) and one Bundle per patient.
//!
//! Synthea-like records: Patients with US Core race and ethnicity extensions, addresses and
//! identifiers; Encounters; vital-sign and laboratory Observations (blood pressure with
//! components, decimals with trailing zeros, reference ranges, primitive extensions);
//! Conditions; MedicationRequests with dosage; Claims and ExplanationOfBenefits with many
//! money amounts. `--sorted-keys` writes every object's keys in alphabetical order instead, as
//! systems built on sorted maps do (`resourceType` is then rarely first). The same seed writes
//! the same bytes; the corpus lives under `.cache/` and is
//! not committed.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::{Result, project_root};

/// Decimal text is written through a marker string, so that `72.50` keeps its trailing zero
/// (`serde_json::Value` would write the float `72.5`).
const DECIMAL: &str = "__decimal__";

/// A small deterministic generator (SplitMix64): test data, not secrets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        // `below` is under the length, which came from a usize.
        items[usize::try_from(self.below(items.len() as u64)).unwrap_or(0)]
    }

    /// A decimal between `low` and `high` with `places` digits after the point, as text.
    fn decimal(&mut self, low: u64, high: u64, places: u32) -> Value {
        let scale = 10u64.pow(places);
        let value = low * scale + self.below((high - low) * scale + 1);
        let text = if places == 0 {
            value.to_string()
        } else {
            format!(
                "{}.{:0width$}",
                value / scale,
                value % scale,
                width = places as usize
            )
        };
        Value::String(format!("{DECIMAL}{text}"))
    }
}

/// What the command wrote.
struct Written {
    documents: usize,
    bytes: usize,
}

/// Runs the command.
pub(crate) fn run(args: &[String]) -> Result<bool> {
    let mut patients = 200usize;
    let mut out = default_dir();
    let mut order = KeyOrder::ResourceTypeFirst;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--patients" => {
                patients = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--patients needs a number")?;
            }
            "--out" => out = PathBuf::from(args.next().ok_or("--out needs a folder")?),
            "--sorted-keys" => order = KeyOrder::Sorted,
            other => return Err(format!("corpus: unknown argument `{other}`")),
        }
    }
    let written = write(&out, patients, order)?;
    println!(
        "corpus: {} documents, {:.1} MB in {}",
        written.documents,
        written.bytes as f64 / 1e6,
        out.display()
    );
    Ok(true)
}

/// Where the benchmarks look for the corpus.
pub(crate) fn default_dir() -> PathBuf {
    project_root().join(".cache/corpus/clinical")
}

/// The order of the keys of each object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyOrder {
    /// `resourceType` first, the rest alphabetical.
    ResourceTypeFirst,
    /// All alphabetical.
    Sorted,
}

/// Writes `patients` records under `out`: `ndjson/<Type>.ndjson` and `bundles/<id>.json`.
fn write(out: &Path, patients: usize, order: KeyOrder) -> Result<Written> {
    let ndjson_dir = out.join("ndjson");
    let bundle_dir = out.join("bundles");
    for dir in [&ndjson_dir, &bundle_dir] {
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
        }
        fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    }
    let mut rng = Rng(0x5EED_F41C);
    let mut by_type: std::collections::BTreeMap<&'static str, String> = Default::default();
    let mut written = Written {
        documents: 0,
        bytes: 0,
    };
    for index in 0..patients {
        let record = record(&mut rng, index);
        let mut entries = Vec::with_capacity(record.len());
        for (kind, resource) in &record {
            let line = text(resource, order);
            let file = by_type.entry(kind).or_default();
            file.push_str(&line);
            file.push('\n');
            written.documents += 1;
            entries.push(json!({
                "fullUrl": format!("urn:uuid:{}", resource["id"].as_str().unwrap_or_default()),
                "resource": resource,
                "request": {"method": "POST", "url": kind}
            }));
        }
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        let bundle_text = text(&bundle, order);
        written.documents += 1;
        written.bytes += bundle_text.len();
        let path = bundle_dir.join(format!("patient-{index:05}.json"));
        fs::write(&path, bundle_text).map_err(|err| format!("{}: {err}", path.display()))?;
    }
    for (kind, lines) in by_type {
        written.bytes += lines.len();
        let path = ndjson_dir.join(format!("{kind}.ndjson"));
        fs::write(&path, lines).map_err(|err| format!("{}: {err}", path.display()))?;
    }
    Ok(written)
}

/// Compact JSON as Synthea and FHIR servers write it: `resourceType` first in every resource
/// (`serde_json::Value` sorts keys), and decimal markers written as numbers with their text.
fn text(value: &Value, order: KeyOrder) -> String {
    let mut out = String::with_capacity(4096);
    write_value(value, order, &mut out);
    out
}

fn write_value(value: &Value, order: KeyOrder, out: &mut String) {
    match value {
        Value::String(text) => match text.strip_prefix(DECIMAL) {
            Some(number) => out.push_str(number),
            None => out.push_str(&Value::String(text.clone()).to_string()),
        },
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(item, order, out);
            }
            out.push(']');
        }
        Value::Object(object) => {
            out.push('{');
            let lifted = match order {
                KeyOrder::ResourceTypeFirst => "resourceType",
                KeyOrder::Sorted => "",
            };
            let first = object.get_key_value(lifted);
            let rest = object.iter().filter(|(key, _)| *key != lifted);
            for (index, (key, item)) in first.into_iter().chain(rest).enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_value(item, order, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn id(rng: &mut Rng) -> String {
    let (a, b) = (rng.next(), rng.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFF,
        b >> 52,
        b & 0xFFFF_FFFF_FFFF
    )
}

fn instant(rng: &mut Rng, year_from: u64) -> String {
    let year = year_from + rng.below(2025 - year_from);
    format!(
        "{year}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

const GIVEN: &[&str] = &[
    "Ada", "Grace", "Alan", "Mary", "José", "Wei", "Amara", "Oskar", "Noor", "Lena",
];
const FAMILY: &[&str] = &[
    "Lovelace", "Hopper", "Turing", "Okafor", "García", "Nakamura", "Müller", "Singh",
];
const CITY: &[&str] = &["Boston", "Worcester", "Springfield", "Lowell", "Cambridge"];

/// One patient and everything about them, in the order a Bundle lists it.
fn record(rng: &mut Rng, index: usize) -> Vec<(&'static str, Value)> {
    let patient_id = id(rng);
    let subject = json!({"reference": format!("urn:uuid:{patient_id}")});
    let mut out = vec![("Patient", patient(rng, &patient_id, index))];
    let encounters = 3 + rng.below(8);
    for _ in 0..encounters {
        let encounter_id = id(rng);
        let start = instant(rng, 2010);
        out.push(("Encounter", json!({
            "resourceType": "Encounter", "id": encounter_id,
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "type": [{"coding": [{"system": "http://snomed.info/sct", "code": "185349003",
                                  "display": "Encounter for check up (procedure)"}],
                      "text": "Encounter for check up (procedure)"}],
            "subject": subject,
            "period": {"start": start, "end": start},
            "serviceProvider": {"reference": "Organization/org-1", "display": "General Hospital"}
        })));
        let context = json!({"reference": format!("urn:uuid:{encounter_id}")});
        out.push((
            "Observation",
            blood_pressure(rng, &subject, &context, &start),
        ));
        for _ in 0..3 + rng.below(5) {
            out.push(("Observation", lab(rng, &subject, &context, &start)));
        }
        if rng.below(3) == 0 {
            out.push(("Condition", condition(rng, &subject, &context, &start)));
        }
        if rng.below(2) == 0 {
            out.push((
                "MedicationRequest",
                medication_request(rng, &subject, &context, &start),
            ));
        }
        let claim_id = id(rng);
        out.push(("Claim", claim(rng, &claim_id, &subject, &context, &start)));
        out.push((
            "ExplanationOfBenefit",
            eob(rng, &claim_id, &subject, &start),
        ));
    }
    out
}

fn patient(rng: &mut Rng, id: &str, index: usize) -> Value {
    let birth = format!(
        "{}-{:02}-{:02}",
        1930 + rng.below(90),
        1 + rng.below(12),
        1 + rng.below(28)
    );
    let family = rng.pick(FAMILY);
    let given = rng.pick(GIVEN);
    json!({
        "resourceType": "Patient", "id": id,
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
        "text": {"status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{given} {family}</div>")},
        "extension": [
            {"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race", "extension": [
                {"url": "ombCategory", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": "2106-3", "display": "White"}},
                {"url": "text", "valueString": "White"}]},
            {"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity", "extension": [
                {"url": "ombCategory", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": "2186-5", "display": "Not Hispanic or Latino"}},
                {"url": "text", "valueString": "Not Hispanic or Latino"}]},
            {"url": "http://synthetichealth.github.io/synthea/disability-adjusted-life-years", "valueDecimal": rng.decimal(0, 20, 14)}
        ],
        "identifier": [
            {"system": "https://github.com/synthetichealth/synthea", "value": id},
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}], "text": "Medical Record Number"},
             "system": "http://hospital.smarthealthit.org", "value": format!("MRN-{index:06}")}
        ],
        "name": [{"use": "official", "family": family, "given": [given, rng.pick(GIVEN)], "prefix": ["Ms."]}],
        "telecom": [{"system": "phone", "value": format!("555-{:03}-{:04}", rng.below(1000), rng.below(10000)), "use": "home"}],
        "gender": if rng.below(2) == 0 { "female" } else { "male" },
        "birthDate": birth,
        "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": format!("{birth}T08:30:00-05:00")}]},
        "address": [{"line": [format!("{} Main St", 1 + rng.below(999))], "city": rng.pick(CITY), "state": "MA", "postalCode": "02139", "country": "US",
                     "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/geolocation", "extension": [
                         {"url": "latitude", "valueDecimal": rng.decimal(41, 42, 13)},
                         {"url": "longitude", "valueDecimal": Value::String(format!("{DECIMAL}-71.{:013}", rng.below(10_000_000_000_000)))}]}]}],
        "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}], "text": "M"},
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en-US", "display": "English"}], "text": "English"}}]
    })
}

fn blood_pressure(rng: &mut Rng, subject: &Value, context: &Value, when: &str) -> Value {
    let component = |rng: &mut Rng, code: &str, display: &str, low: u64, high: u64| {
        json!({"code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}], "text": display},
               "valueQuantity": {"value": rng.decimal(low, high, 2), "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}})
    };
    json!({
        "resourceType": "Observation", "id": id(rng), "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs", "display": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel with all children optional"}], "text": "Blood pressure panel with all children optional"},
        "subject": subject, "encounter": context,
        "effectiveDateTime": when, "issued": when,
        "component": [
            component(rng, "8462-4", "Diastolic Blood Pressure", 60, 95),
            component(rng, "8480-6", "Systolic Blood Pressure", 100, 160)
        ]
    })
}

const LABS: &[(&str, &str, &str, u64, u64)] = &[
    ("2339-0", "Glucose", "mg/dL", 65, 140),
    ("8867-4", "Heart rate", "/min", 50, 110),
    ("39156-5", "Body mass index", "kg/m2", 18, 40),
    (
        "2093-3",
        "Cholesterol [Mass/volume] in Serum or Plasma",
        "mg/dL",
        120,
        280,
    ),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 10, 18),
    ("29463-7", "Body weight", "kg", 45, 130),
];

fn lab(rng: &mut Rng, subject: &Value, context: &Value, when: &str) -> Value {
    let (code, display, unit, low, high) =
        LABS[usize::try_from(rng.below(LABS.len() as u64)).unwrap_or(0)];
    json!({
        "resourceType": "Observation", "id": id(rng), "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory", "display": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}], "text": display},
        "subject": subject, "encounter": context,
        "effectiveDateTime": when,
        "_effectiveDateTime": {"extension": [{"url": "http://example.org/fhir/StructureDefinition/collection-site", "valueString": "left arm"}]},
        "issued": when,
        "valueQuantity": {"value": rng.decimal(low, high, 2), "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
        "referenceRange": [{"low": {"value": rng.decimal(low, low + 5, 1), "unit": unit}, "high": {"value": rng.decimal(high - 5, high, 1), "unit": unit}}]
    })
}

const CONDITIONS: &[(&str, &str)] = &[
    ("44054006", "Diabetes mellitus type 2 (disorder)"),
    (
        "38341003",
        "Hypertensive disorder, systemic arterial (disorder)",
    ),
    ("195662009", "Acute viral pharyngitis (disorder)"),
    ("10509002", "Acute bronchitis (disorder)"),
];

fn condition(rng: &mut Rng, subject: &Value, context: &Value, when: &str) -> Value {
    let (code, display) =
        CONDITIONS[usize::try_from(rng.below(CONDITIONS.len() as u64)).unwrap_or(0)];
    json!({
        "resourceType": "Condition", "id": id(rng),
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis", "display": "Encounter Diagnosis"}]}],
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}], "text": display},
        "subject": subject, "encounter": context,
        "onsetDateTime": when, "recordedDate": when
    })
}

fn medication_request(rng: &mut Rng, subject: &Value, context: &Value, when: &str) -> Value {
    json!({
        "resourceType": "MedicationRequest", "id": id(rng),
        "status": "active", "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "860975", "display": "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"}],
                                      "text": "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"},
        "subject": subject, "encounter": context, "authoredOn": when,
        "requester": {"reference": "Practitioner/pr-1", "display": "Dr. Smith"},
        "dosageInstruction": [{"sequence": 1, "text": "Take one tablet daily",
            "timing": {"repeat": {"frequency": 1, "period": rng.decimal(1, 1, 1), "periodUnit": "d"}},
            "asNeededBoolean": false,
            "doseAndRate": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/dose-rate-type", "code": "ordered", "display": "Ordered"}]},
                             "doseQuantity": {"value": rng.decimal(1, 2, 1)}}]}]
    })
}

fn money(rng: &mut Rng, high: u64) -> Value {
    json!({"value": rng.decimal(1, high, 2), "currency": "USD"})
}

fn claim(rng: &mut Rng, claim_id: &str, subject: &Value, context: &Value, when: &str) -> Value {
    let items: Vec<Value> = (1..=1 + rng.below(4))
        .map(|sequence| {
            json!({"sequence": sequence,
                   "productOrService": {"coding": [{"system": "http://snomed.info/sct", "code": "185349003", "display": "Encounter for check up (procedure)"}], "text": "Encounter for check up (procedure)"},
                   "encounter": [context],
                   "net": money(rng, 900)})
        })
        .collect();
    json!({
        "resourceType": "Claim", "id": claim_id, "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "claim", "patient": subject,
        "billablePeriod": {"start": when, "end": when},
        "created": when,
        "provider": {"reference": "Organization/org-1", "display": "General Hospital"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": true, "coverage": {"display": "Medicare"}}],
        "item": items,
        "total": money(rng, 3000)
    })
}

fn eob(rng: &mut Rng, claim_id: &str, subject: &Value, when: &str) -> Value {
    let adjudication = |rng: &mut Rng| -> Vec<Value> {
        ["eligible", "deductible", "benefit", "copay"]
            .iter()
            .map(|category| {
                json!({"category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adjudication", "code": category}]},
                       "amount": money(rng, 600)})
            })
            .collect()
    };
    let items: Vec<Value> = (1..=1 + rng.below(4))
        .map(|sequence| {
            json!({"sequence": sequence,
                   "productOrService": {"coding": [{"system": "http://snomed.info/sct", "code": "185349003"}]},
                   "servicedDate": &when[..10],
                   "net": money(rng, 900),
                   "adjudication": adjudication(rng)})
        })
        .collect();
    let mut note = String::new();
    let _ = write!(note, "Claim {claim_id} processed");
    json!({
        "resourceType": "ExplanationOfBenefit", "id": id(rng), "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "claim", "patient": subject,
        "billablePeriod": {"start": when, "end": when},
        "created": when,
        "insurer": {"display": "Medicare"},
        "provider": {"reference": "Organization/org-1"},
        "claim": {"reference": format!("urn:uuid:{claim_id}")},
        "outcome": "complete",
        "disposition": note,
        "insurance": [{"focal": true, "coverage": {"display": "Medicare"}}],
        "item": items,
        "total": [
            {"category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adjudication", "code": "submitted"}]}, "amount": money(rng, 3000)},
            {"category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adjudication", "code": "benefit"}]}, "amount": money(rng, 2500)}
        ],
        "payment": {"amount": money(rng, 2500)}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_their_text_and_the_corpus_is_deterministic() {
        let order = KeyOrder::ResourceTypeFirst;
        let mut rng = Rng(1);
        let value = json!({"a": Value::String(format!("{DECIMAL}72.50")), "b": "text"});
        assert_eq!(text(&value, order), r#"{"a":72.50,"b":"text"}"#);
        let resource = json!({"id": "x", "resourceType": "Patient", "active": true});
        assert_eq!(
            text(&resource, order),
            r#"{"resourceType":"Patient","active":true,"id":"x"}"#
        );
        assert_eq!(
            text(&resource, KeyOrder::Sorted),
            r#"{"active":true,"id":"x","resourceType":"Patient"}"#
        );
        let first: Vec<String> = record(&mut rng, 0)
            .iter()
            .map(|(_, r)| text(r, order))
            .collect();
        let mut rng = Rng(1);
        let second: Vec<String> = record(&mut rng, 0)
            .iter()
            .map(|(_, r)| text(r, order))
            .collect();
        assert_eq!(first, second);
        for line in &first {
            let parsed: Value = serde_json::from_str(line).unwrap();
            assert!(parsed["resourceType"].is_string(), "{line}");
            assert!(!line.contains(DECIMAL), "{line}");
        }
    }
}
