//! A loopback HTTP(S) server that misbehaves on purpose. Each test gives it a handler that
//! decides, request by request, what to answer: a normal response, a body that never ends, a
//! body that stalls, a gzip bomb, a hang-up. It records every request it saw, headers and body,
//! so tests assert on the wire, not on the client's own account.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt as _};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub fn path_and_query(&self) -> String {
        self.uri
            .path_and_query()
            .map(ToString::to_string)
            .unwrap_or_default()
    }
}

type Chunks = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

/// What the server does with one request.
pub enum Reply {
    /// A complete response.
    Full {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    },
    /// Headers, then a body streamed from `chunks` (which may never end).
    Stream {
        status: u16,
        headers: Vec<(&'static str, String)>,
        chunks: Chunks,
    },
    /// Closes the connection after reading the request, without answering.
    HangUp,
    /// Reads the request and never answers, holding the connection open.
    Never,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self::Full {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::Full {
            status,
            headers: vec![("content-type", "application/fhir+json".to_owned())],
            body: Bytes::from(serde_json::to_vec(body).unwrap()),
        }
    }

    pub fn text(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Self::Full {
            status,
            headers: vec![("content-type", content_type.to_owned())],
            body: body.into(),
        }
    }

    pub fn redirect(status: u16, location: impl Into<String>) -> Self {
        Self::Full {
            status,
            headers: vec![("location", location.into())],
            body: Bytes::new(),
        }
    }

    pub fn stream(
        status: u16,
        headers: Vec<(&'static str, String)>,
        chunks: impl Stream<Item = Bytes> + Send + 'static,
    ) -> Self {
        Self::Stream {
            status,
            headers,
            chunks: Box::pin(chunks),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        match &mut self {
            Self::Full { headers, .. } | Self::Stream { headers, .. } => {
                headers.push((name, value.into()));
            }
            Self::HangUp | Self::Never => {}
        }
        self
    }
}

/// Decides the reply to the `n`-th request (0-based).
pub type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

/// A running server; it stops when dropped.
pub struct Hostile {
    pub addr: SocketAddr,
    tls: bool,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    /// A plain-HTTP server on a free loopback port.
    pub async fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        Self::spawn(Arc::new(handler), None).await
    }

    /// An HTTPS server on a free loopback port, with a self-signed certificate for
    /// `localhost` (clients built by [`tls_client_builder`] trust it).
    pub async fn start_tls(
        handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::spawn(Arc::new(handler), Some(tls_acceptor())).await
    }

    async fn spawn(handler: Handler, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let is_tls = tls.is_some();
        let task = tokio::spawn({
            let seen = seen.clone();
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let handler = handler.clone();
                    let seen = seen.clone();
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        match tls {
                            Some(acceptor) => {
                                if let Ok(stream) = acceptor.accept(stream).await {
                                    serve(TokioIo::new(stream), handler, seen).await;
                                }
                            }
                            None => serve(TokioIo::new(stream), handler, seen).await,
                        }
                    });
                }
            }
        });
        Self {
            addr,
            tls: is_tls,
            seen,
            task,
        }
    }

    /// `http(s)://localhost:port` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let host = if self.tls { "localhost" } else { "127.0.0.1" };
        format!("{scheme}://{host}:{}{path}", self.addr.port())
    }

    /// Every request received so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve<I>(io: I, handler: Handler, seen: Arc<Mutex<Vec<Seen>>>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let handler = handler.clone();
        let seen = seen.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let request = Seen {
                method: parts.method,
                uri: parts.uri,
                headers: parts.headers,
                body,
            };
            let index = {
                let mut seen = seen.lock().unwrap();
                seen.push(request.clone());
                seen.len() - 1
            };
            let reply = handler(&request, index);
            if matches!(reply, Reply::Never) {
                futures::future::pending::<()>().await;
            }
            respond(reply)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>;

fn respond(reply: Reply) -> Result<hyper::Response<Body>, std::io::Error> {
    let (status, headers, body): (_, _, Body) = match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => (
            status,
            headers,
            http_body_util::Full::new(body).boxed_unsync(),
        ),
        Reply::Stream {
            status,
            headers,
            chunks,
        } => (
            status,
            headers,
            BodyExt::boxed_unsync(StreamBody::new(
                chunks.map(|chunk| Ok::<_, Infallible>(Frame::data(chunk))),
            )),
        ),
        // An error from the service makes hyper drop the connection without a response.
        Reply::HangUp | Reply::Never => return Err(std::io::Error::other("hang up")),
    };
    let mut response = hyper::Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    for (name, value) in headers {
        response
            .headers_mut()
            .append(name, HeaderValue::from_str(&value).unwrap());
    }
    Ok(response)
}

/// A body that sends `byte` every `every`, forever.
pub fn trickle(every: Duration) -> impl Stream<Item = Bytes> + Send {
    futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(every).await;
        Some((Bytes::from_static(b" "), ()))
    })
}

/// A body that sends `first` and then nothing, never ending.
pub fn stall(first: &'static [u8]) -> impl Stream<Item = Bytes> + Send {
    futures::stream::once(async move { Bytes::from_static(first) })
        .chain(futures::stream::pending())
}

/// A gzip stream that inflates to `mebibytes` MiB of spaces while staying about 1/1000 of
/// that on the wire: one fully flushed deflate block of 1 MiB, repeated (a full flush resets
/// the compressor, so each repetition is byte-identical). The trailer is never reached by a
/// client that respects its size limit.
pub fn gzip_bomb(mebibytes: usize) -> impl Stream<Item = Bytes> + Send {
    use flate2::{Compress, Compression, FlushCompress};
    let mut compress = Compress::new(Compression::best(), false);
    let input = vec![b' '; 1 << 20];
    let mut block = Vec::with_capacity(1 << 16);
    compress
        .compress_vec(&input, &mut block, FlushCompress::Full)
        .unwrap();
    assert!(
        compress.total_in() == input.len() as u64,
        "one call compresses the whole MiB"
    );
    let block = Bytes::from(block);
    // RFC 1952 header: magic, deflate, no flags, no time, no extra flags, unknown OS.
    let header = Bytes::from_static(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    futures::stream::once(async move { header }).chain(futures::stream::iter(
        (0..mebibytes).map(move |_| block.clone()),
    ))
}

/// The self-signed certificate of every TLS server, generated once.
fn certificate() -> &'static (String, String) {
    static CERT: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    CERT.get_or_init(|| {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    })
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    let (cert, key) = certificate();
    let certs = vec![rustls::pki_types::CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()];
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A reqwest builder that trusts the test servers' certificate.
pub fn tls_client_builder() -> reqwest::ClientBuilder {
    let cert = reqwest::Certificate::from_pem(certificate().0.as_bytes()).unwrap();
    reqwest::Client::builder().add_root_certificate(cert)
}
