//! [`OperationsExt`]: `$everything`, `$validate` and any other operation, with R4 types.

use fhir_core::interactions::OperationRequest;
use fhir_core::page::SearchMode;
use fhir_core::{Client, Error, Page, Response, ResponseMeta, TypedResource};
use futures::stream::{self, BoxStream, StreamExt as _, TryStreamExt as _};

use super::sealed::Sealed;
use crate::Resource;
use crate::datatypes::OpenValue;
use crate::resources::{OperationOutcome, Parameters};

/// Operations on [`fhir_core::Client`] with R4 types; see the [module docs](super).
pub trait OperationsExt: Sealed {
    /// `Patient/[id]/$everything`: the patient's record, as a stream over every result page.
    fn patient_everything(&self, id: &str) -> EverythingRequest;

    /// `Encounter/[id]/$everything`: the encounter's record, as a stream over every result
    /// page.
    fn encounter_everything(&self, id: &str) -> EverythingRequest;

    /// `[type]/$validate` of `resource` (or `[type]/[id]/$validate` with
    /// [`ValidateRequest::id`]); the server's verdict is an OperationOutcome.
    fn validate<R>(&self, resource: &R) -> ValidateRequest
    where
        R: TypedResource + Clone + Into<Resource>;

    /// Any operation (`$name`, the `$` optional), at system level until
    /// [`TypedOperation::on_type`] or [`TypedOperation::instance`] says otherwise.
    fn operation_typed(&self, name: &str) -> TypedOperation;
}

impl Sealed for Client {}

impl OperationsExt for Client {
    fn patient_everything(&self, id: &str) -> EverythingRequest {
        EverythingRequest {
            operation: self.operation("$everything").instance("Patient", id),
        }
    }

    fn encounter_everything(&self, id: &str) -> EverythingRequest {
        EverythingRequest {
            operation: self.operation("$everything").instance("Encounter", id),
        }
    }

    fn validate<R>(&self, resource: &R) -> ValidateRequest
    where
        R: TypedResource + Clone + Into<Resource>,
    {
        ValidateRequest {
            client: self.clone(),
            resource_type: R::RESOURCE_TYPE,
            resource: resource.clone().into(),
            id: None,
            mode: None,
            profile: None,
        }
    }

    fn operation_typed(&self, name: &str) -> TypedOperation {
        TypedOperation {
            operation: self.operation(name),
        }
    }
}

/// `$everything` on a Patient or an Encounter (by GET), paged through `next` links.
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct EverythingRequest {
    operation: OperationRequest,
}

impl EverythingRequest {
    /// Adds an input parameter (`start`, `end`, or one the server defines).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.operation = self.operation.param(name, value);
        self
    }

    /// `_count`: the page size asked for.
    pub fn count(self, count: u32) -> Self {
        self.param("_count", count.to_string())
    }

    /// `_since`: only resources updated after `instant`.
    pub fn since(self, instant: &str) -> Self {
        self.param("_since", instant)
    }

    /// `_type`: only resources of these types.
    pub fn types(self, types: &[&str]) -> Self {
        self.param("_type", types.join(","))
    }

    /// Every result page, following `next` links.
    pub fn pages(self) -> BoxStream<'static, Result<Page<Resource>, Error>> {
        self.operation.pages()
    }

    /// Every resource of every page, in order, whatever its `search.mode` except `outcome`
    /// (servers mark `$everything` entries as matches or as includes); read outcomes from
    /// [`pages`](Self::pages).
    ///
    /// A resource that is not valid R4 is an [`ErrorKind::Decode`](fhir_core::ErrorKind)
    /// error naming the entry (`entry[4].resource…`), after the resources before it.
    pub fn resources(self) -> BoxStream<'static, Result<Resource, Error>> {
        self.pages()
            .map_ok(|page| {
                let resources: Vec<Result<Resource, Error>> = page
                    .entries()
                    .iter()
                    .filter(|entry| {
                        entry.raw_resource().is_some()
                            && entry.search_mode() != Some(&SearchMode::Outcome)
                    })
                    .map(|entry| entry.decode().map_err(|err| page.wrap_decode_error(err)))
                    .collect();
                stream::iter(resources)
            })
            .try_flatten()
            .boxed()
    }
}

/// The `mode` of `$validate`: what the resource is validated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidateMode {
    /// As if it were to be created.
    Create,
    /// As if it were to replace the resource of the request's id.
    Update,
    /// Whether the resource of the request's id may be deleted.
    Delete,
    /// Against the profile given with [`ValidateRequest::profile`] only.
    Profile,
}

impl ValidateMode {
    /// The code sent (`create`, `update`, `delete`, `profile`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Profile => "profile",
        }
    }
}

/// `$validate`, sent by POST as `Parameters` (`resource`, then `mode` and `profile` when set).
///
/// A 2xx answer is the OperationOutcome (valid, or with warnings). Servers that find errors
/// may also answer 2xx with error issues, or 400/412/422: then the call fails with a status
/// error whose [`operation_outcome`](fhir_core::Error::operation_outcome) holds the verdict, in
/// R4 form with [`OperationOutcome::from`].
///
/// ```no_run
/// # #[cfg(feature = "patient")]
/// # async fn demo(client: fhir_core::Client) -> Result<(), fhir_core::Error> {
/// use fhir_r4::client::{OperationsExt as _, ValidateMode};
/// use fhir_r4::resources::{OperationOutcome, Patient};
///
/// match client.validate(&Patient::default()).mode(ValidateMode::Create).send().await {
///     Ok(response) => println!("{} issues", response.resource().issue.len()),
///     Err(err) => match err.operation_outcome().map(OperationOutcome::from) {
///         Some(outcome) => println!("invalid: {} issues", outcome.issue.len()),
///         None => return Err(err),
///     },
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct ValidateRequest {
    client: Client,
    resource_type: &'static str,
    resource: Resource,
    id: Option<String>,
    mode: Option<ValidateMode>,
    profile: Option<String>,
}

impl ValidateRequest {
    /// Validates against the resource `id` (`[type]/[id]/$validate`), as the `update` and
    /// `delete` modes need.
    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// The validation mode.
    pub fn mode(mut self, mode: ValidateMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The canonical URL of a profile to validate against.
    pub fn profile(mut self, profile: &str) -> Self {
        self.profile = Some(profile.to_owned());
        self
    }

    /// The `Parameters` body, as it will be sent.
    pub fn to_parameters(&self) -> Parameters {
        let mut parameters = Parameters::new().with_resource("resource", self.resource.clone());
        if let Some(mode) = self.mode {
            parameters = parameters.with_value("mode", OpenValue::Code(mode.as_str().into()));
        }
        if let Some(profile) = &self.profile {
            parameters = parameters.with_value("profile", OpenValue::Uri(profile.as_str().into()));
        }
        parameters
    }

    /// Sends the request.
    ///
    /// # Errors
    ///
    /// A status error (with the server's OperationOutcome), a transport error, or a decode
    /// error when a 2xx body is not an OperationOutcome.
    pub async fn send(self) -> Result<Response<OperationOutcome>, Error> {
        let parameters = self.to_parameters();
        let operation = self.client.operation("$validate");
        let operation = match &self.id {
            Some(id) => operation.instance(self.resource_type, id),
            None => operation.on_type(self.resource_type),
        };
        operation.post(&parameters).await
    }
}

/// Any operation with R4 types: `Parameters` in, and out a [`OperationResponse`].
///
/// ```no_run
/// # #[cfg(feature = "patient")]
/// # async fn demo(client: fhir_core::Client) -> Result<(), fhir_core::Error> {
/// use fhir_r4::client::OperationsExt as _;
/// use fhir_r4::datatypes::OpenValue;
/// use fhir_r4::resources::{Parameters, Patient};
///
/// let input = Parameters::new().with_value("count", OpenValue::Integer(3.into()));
/// let response = client.operation_typed("$match").on_type::<Patient>().post(&input).await?;
/// if let Some(result) = response.parameters() {
///     println!("{} output parameters", result.parameter.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct TypedOperation {
    operation: OperationRequest,
}

impl TypedOperation {
    /// Invokes the operation on the resource type `R` (`[base]/[type]/$name`).
    pub fn on_type<R: TypedResource>(mut self) -> Self {
        self.operation = self.operation.on_type(R::RESOURCE_TYPE);
        self
    }

    /// Invokes the operation on the `R` with logical id `id` (`[base]/[type]/[id]/$name`).
    pub fn instance<R: TypedResource>(mut self, id: &str) -> Self {
        self.operation = self.operation.instance(R::RESOURCE_TYPE, id);
        self
    }

    /// Adds a simple input parameter to the query (by [`get`](Self::get), or alongside the
    /// body of [`post`](Self::post)).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.operation = self.operation.param(name, value);
        self
    }

    /// Invokes the operation by GET (no side effects, simple parameters only).
    ///
    /// # Errors
    ///
    /// A status, transport or decode error (the body must be a valid R4 resource).
    pub async fn get(self) -> Result<OperationResponse, Error> {
        self.operation
            .get::<Resource>()
            .await
            .map(OperationResponse::new)
    }

    /// Invokes the operation by POST with `parameters` as the body.
    ///
    /// # Errors
    ///
    /// A status, transport, encode or decode error (the body must be a valid R4 resource).
    pub async fn post(self, parameters: &Parameters) -> Result<OperationResponse, Error> {
        self.operation
            .post::<Parameters, Resource>(parameters)
            .await
            .map(OperationResponse::new)
    }
}

/// What an operation returned, by kind.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OperationOutput {
    /// Output parameters.
    Parameters(Parameters),
    /// An OperationOutcome (some operations' only output, or a 2xx with warnings).
    Outcome(OperationOutcome),
    /// A resource returned directly: an operation whose single output is a resource named
    /// `return` may skip the `Parameters` wrapper.
    Resource(Resource),
}

/// The successful answer to a [`TypedOperation`].
#[derive(Debug, Clone)]
pub struct OperationResponse {
    meta: ResponseMeta,
    output: OperationOutput,
}

impl OperationResponse {
    fn new(response: Response<Resource>) -> Self {
        let (resource, meta) = response.into_parts();
        let output = match resource {
            Resource::Parameters(parameters) => OperationOutput::Parameters(*parameters),
            Resource::OperationOutcome(outcome) => OperationOutput::Outcome(*outcome),
            other => OperationOutput::Resource(other),
        };
        Self { meta, output }
    }

    /// The HTTP metadata.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// The output.
    pub fn output(&self) -> &OperationOutput {
        &self.output
    }

    /// The output, by value.
    pub fn into_output(self) -> OperationOutput {
        self.output
    }

    /// The output parameters, when the server returned `Parameters`.
    pub fn parameters(&self) -> Option<&Parameters> {
        match &self.output {
            OperationOutput::Parameters(parameters) => Some(parameters),
            _ => None,
        }
    }

    /// The OperationOutcome, when the server returned one.
    pub fn outcome(&self) -> Option<&OperationOutcome> {
        match &self.output {
            OperationOutput::Outcome(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// The resource result, either way a server may send it: returned directly, or as the
    /// resource of the `return` output parameter.
    pub fn resource(&self) -> Option<&Resource> {
        match &self.output {
            OperationOutput::Resource(resource) => Some(resource),
            OperationOutput::Parameters(parameters) => parameters.resource("return"),
            OperationOutput::Outcome(_) => None,
        }
    }

    /// The resource result, by value (see [`resource`](Self::resource)).
    pub fn into_resource(self) -> Option<Resource> {
        match self.output {
            OperationOutput::Resource(resource) => Some(resource),
            OperationOutput::Parameters(parameters) => parameters.into_resource("return"),
            OperationOutput::Outcome(_) => None,
        }
    }
}
