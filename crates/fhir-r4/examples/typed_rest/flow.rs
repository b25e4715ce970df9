//! The `typed_rest` flow against a FHIR R4 server, shared by the example (which prints it) and
//! by fhir-e2e's test against the sandbox (which asserts the [`Summary`]).
//!
//! A transaction creates a Patient and three Observations referencing it by `urn:uuid`; a
//! search with `_include` pages through the Observations; a conditional create finds the
//! Patient again; an update with a stale `If-Match` is refused; a transaction deletes it all.

use std::fmt;

use fhir_core::{Client, SearchParams};
use fhir_r4::client::TypedPageExt as _;
use fhir_r4::codes::ObservationStatus;
use fhir_r4::datatypes::{CodeableConcept, Coding, HumanName, Identifier, Quantity, Reference};
use fhir_r4::primitives::{Decimal, Primitive};
use fhir_r4::resources::{Observation, ObservationValue, Patient};
use fhir_r4::search::{Search, Token, observation};
use fhir_r4::thin_vec;
use futures::TryStreamExt as _;

/// The identifier system of the Patients this flow creates.
pub(crate) const IDENTIFIER_SYSTEM: &str = "urn:fhir-rs:typed-rest";

/// LOINC heart rate: the code of the Observations and of the search.
const HEART_RATE: (&str, &str) = ("http://loinc.org", "8867-4");

/// What the flow saw, step by step.
#[derive(Debug)]
#[allow(dead_code)] // Asserted by fhir-e2e's test; the example prints each step instead.
pub(crate) struct Summary {
    /// The Patient's id, given by the server in the transaction.
    pub(crate) patient_id: String,
    /// The status of each transaction entry, in request order.
    pub(crate) transaction_statuses: Vec<u16>,
    /// Observations matched by the search, over all pages.
    pub(crate) matches: usize,
    /// Pages the search took.
    pub(crate) pages: usize,
    /// Distinct Patients the search included (0 from servers without `_include`).
    pub(crate) included_patients: usize,
    /// The status of the conditional create (200: an existing match was returned).
    pub(crate) conditional_status: u16,
    /// The id of the Patient the conditional create returned.
    pub(crate) conditional_id: String,
    /// The error of the update with a stale `If-Match`.
    pub(crate) stale_update: fhir_core::Error,
    /// The status of each delete, Observations first.
    pub(crate) delete_statuses: Vec<u16>,
}

/// Why the flow stopped.
#[derive(Debug)]
pub(crate) enum FlowError {
    /// The client or the server failed.
    Client(fhir_core::Error),
    /// The server answered, but not as FHIR says it should.
    Unexpected {
        /// The step (`transaction`, `search`, …).
        step: &'static str,
        /// What was expected and what came.
        detail: String,
    },
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The client's error already quotes the server's OperationOutcome.
            Self::Client(err) => write!(f, "{err}"),
            Self::Unexpected { step, detail } => write!(f, "{step}: {detail}"),
        }
    }
}

impl std::error::Error for FlowError {}

impl From<fhir_core::Error> for FlowError {
    fn from(err: fhir_core::Error) -> Self {
        Self::Client(err)
    }
}

impl From<fhir_core::DecodeError> for FlowError {
    fn from(err: fhir_core::DecodeError) -> Self {
        Self::Unexpected {
            step: "decode",
            detail: err.to_string(),
        }
    }
}

fn unexpected(step: &'static str, detail: impl Into<String>) -> FlowError {
    FlowError::Unexpected {
        step,
        detail: detail.into(),
    }
}

/// A Patient with identifier `IDENTIFIER_SYSTEM|value`.
fn patient(value: &str) -> Patient {
    Patient {
        identifier: thin_vec![Identifier {
            system: Some(IDENTIFIER_SYSTEM.into()),
            value: Some(value.into()),
            ..Identifier::default()
        }],
        name: thin_vec![HumanName {
            family: Some("Typed-Rest".into()),
            given: thin_vec!["Example".into()],
            ..HumanName::default()
        }],
        ..Patient::default()
    }
}

/// A final heart-rate Observation of `subject`.
fn heart_rate(subject: Reference, beats_per_minute: i32) -> Observation {
    Observation {
        status: Some(Primitive::new(ObservationStatus::Final)),
        code: Some(Box::new(CodeableConcept {
            coding: thin_vec![Coding {
                system: Some(HEART_RATE.0.into()),
                code: Some(HEART_RATE.1.into()),
                display: Some("Heart rate".into()),
                ..Coding::default()
            }],
            ..CodeableConcept::default()
        })),
        subject: Some(Box::new(subject)),
        value: Some(ObservationValue::Quantity(Box::new(Quantity {
            value: Some(Primitive::new(Decimal::from(beats_per_minute))),
            unit: Some("beats/minute".into()),
            system: Some("http://unitsofmeasure.org".into()),
            code: Some("/min".into()),
            ..Quantity::default()
        }))),
        ..Observation::default()
    }
}

/// What the flow created, for cleaning up after a failure.
#[derive(Debug, Default)]
struct Created {
    patients: Vec<String>,
    observations: Vec<String>,
}

/// Runs the flow with a Patient identified by `identifier_value` (unique per run), reporting
/// each step to `log`. On failure after the transaction, deletes what it created (best
/// effort) before returning the error.
pub(crate) async fn run(
    client: &Client,
    identifier_value: &str,
    log: &mut dyn FnMut(String),
) -> Result<Summary, FlowError> {
    let mut created = Created::default();
    let result = steps(client, identifier_value, log, &mut created).await;
    if result.is_err() {
        let _ = delete_all(client, &created).await;
    }
    result
}

async fn steps(
    client: &Client,
    identifier_value: &str,
    log: &mut dyn FnMut(String),
    created: &mut Created,
) -> Result<Summary, FlowError> {
    // 1. One transaction: the Patient, and three Observations referring to it by urn:uuid.
    let mut tx = client.transaction();
    let new_patient = tx.create(&patient(identifier_value))?;
    let mut observation_handles = Vec::new();
    for beats in [62, 71, 80] {
        let observation = heart_rate(Reference::from_handle(&new_patient), beats);
        observation_handles.push(tx.create(&observation)?);
    }
    let response = tx.send().await?;
    let transaction_statuses: Vec<u16> = response
        .entries()
        .iter()
        .map(|entry| entry.status().as_u16())
        .collect();
    let id_of = |handle| {
        response
            .entry(handle)
            .and_then(|entry| entry.location_id())
            .map(str::to_owned)
    };
    created.patients = id_of(&new_patient).into_iter().collect();
    created.observations = observation_handles.iter().filter_map(id_of).collect();
    if transaction_statuses.iter().any(|status| *status != 201) {
        return Err(unexpected(
            "transaction",
            format!("expected 201 for every entry, got {transaction_statuses:?}"),
        ));
    }
    let Some(patient_id) = created.patients.first().cloned() else {
        return Err(unexpected(
            "transaction",
            "the Patient entry has no location",
        ));
    };
    if created.observations.len() != 3 {
        return Err(unexpected(
            "transaction",
            "an Observation entry has no location",
        ));
    }
    // The server rewrote the urn:uuid references to the new Patient's id.
    for handle in &observation_handles {
        if let Some(stored) = response.entry(handle).and_then(|entry| entry.resource()) {
            let stored: Observation = stored?;
            let subject = stored.subject.as_ref().and_then(|s| s.id_of::<Patient>());
            if subject != Some(patient_id.as_str()) {
                return Err(unexpected(
                    "transaction",
                    format!("an Observation's subject is {subject:?}, not Patient/{patient_id}"),
                ));
            }
        }
    }
    log(format!(
        "transaction: {} entries, all 201 (Patient/{patient_id} and {} Observations referencing it)",
        transaction_statuses.len(),
        created.observations.len()
    ));

    // 2. Search the Patient's heart rates, two per page, with the Patient included: typed
    // parameters of Observation (a Patient parameter here would not compile).
    let query = Search::<Observation>::new()
        .and(observation::subject().to::<Patient>(&patient_id))
        .and(observation::code().eq(Token::new(HEART_RATE.0, HEART_RATE.1)))
        .include(observation::patient())
        .count(2);
    let mut pages = client.search_with(query).pages();
    let (mut page_count, mut matches) = (0, 0);
    let mut included = std::collections::BTreeSet::new();
    while let Some(page) = pages.try_next().await? {
        page_count += 1;
        for observation in page.resources()? {
            if observation
                .subject
                .as_ref()
                .and_then(|s| s.id_of::<Patient>())
                != Some(patient_id.as_str())
            {
                return Err(unexpected(
                    "search",
                    "a match is not the Patient's Observation",
                ));
            }
            matches += 1;
        }
        for patient in page.included_of::<Patient>()? {
            included.extend(patient.id);
        }
        for outcome in page.operation_outcomes()? {
            log(format!("search: the server says {:?}", outcome.issue));
        }
    }
    log(format!(
        "search: {matches} matches over {page_count} pages, {} included Patient{}{}",
        included.len(),
        if included.len() == 1 { "" } else { "s" },
        if included.is_empty() {
            " (the server did not apply `_include`)"
        } else {
            ""
        }
    ));

    // 3. Create the same Patient again, only if none has its identifier: the server returns
    // the existing one.
    let again = client
        .create(&patient(identifier_value))
        .if_none_exist(SearchParams::new().with_token(
            "identifier",
            Some(IDENTIFIER_SYSTEM),
            identifier_value,
        ))
        .send()
        .await?;
    let conditional_status = again.meta().status().as_u16();
    let conditional_id = again.id().unwrap_or_default().to_owned();
    if again.created() {
        created.patients.push(conditional_id.clone());
        return Err(unexpected(
            "conditional create",
            format!(
                "the server created Patient/{conditional_id} instead of finding Patient/{patient_id}"
            ),
        ));
    }
    log(format!(
        "conditional create: {conditional_status}, the existing Patient/{conditional_id} (same id: {})",
        conditional_id == patient_id
    ));

    // 4. Update with the current version, then again with the version that is now stale.
    let current = client.read::<Patient>(&patient_id).send().await?;
    let Some(version) = current.meta().version_id().map(str::to_owned) else {
        return Err(unexpected("read", "the Patient has no version id"));
    };
    let mut changed = current.into_resource();
    changed.active = Some(Primitive::new(true));
    let updated = client.update(&changed).if_match(&version).send().await?;
    log(format!(
        "update: If-Match version {version} accepted, now version {}",
        updated.version_id().unwrap_or("?")
    ));
    changed.active = Some(Primitive::new(false));
    let stale_update = match client.update(&changed).if_match(&version).send().await {
        Ok(_) => {
            return Err(unexpected(
                "stale update",
                format!("the server accepted If-Match version {version} after it changed"),
            ));
        }
        Err(err) if err.is_precondition_failed() || err.is_conflict() => err,
        Err(err) => return Err(err.into()),
    };
    log(format!(
        "stale If-Match: refused, is_precondition_failed() = {}: {stale_update}",
        stale_update.is_precondition_failed()
    ));

    // 5. Delete the Observations and the Patient in one transaction.
    let delete_statuses = delete_all(client, created).await?;
    if let Some(status) = delete_statuses
        .iter()
        .find(|status| !(200..300).contains(*status))
    {
        return Err(unexpected("delete", format!("an entry answered {status}")));
    }
    match client.read::<Patient>(&patient_id).send().await {
        Err(err) if err.is_not_found() || err.is_gone() => {}
        Ok(_) => return Err(unexpected("delete", "the Patient can still be read")),
        Err(err) => return Err(err.into()),
    }
    log(format!(
        "delete: {} Observations and the Patient, statuses {delete_statuses:?}; the Patient now reads as gone",
        created.observations.len()
    ));
    *created = Created::default();

    Ok(Summary {
        patient_id,
        transaction_statuses,
        matches,
        pages: page_count,
        included_patients: included.len(),
        conditional_status,
        conditional_id,
        stale_update,
        delete_statuses,
    })
}

/// Deletes what `created` names in one transaction; the statuses, Observations first.
async fn delete_all(client: &Client, created: &Created) -> Result<Vec<u16>, fhir_core::Error> {
    let mut tx = client.transaction();
    for id in &created.observations {
        tx.delete("Observation", id);
    }
    for id in &created.patients {
        tx.delete("Patient", id);
    }
    if tx.is_empty() {
        return Ok(Vec::new());
    }
    let response = tx.send().await?;
    Ok(response
        .entries()
        .iter()
        .map(|entry| entry.status().as_u16())
        .collect())
}
