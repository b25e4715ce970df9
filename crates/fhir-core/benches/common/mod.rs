//! A loopback HTTP server answering fixed bytes, shared by the client benchmarks: it does as
//! little as possible so the measured difference is the clients'.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;

/// Page bodies, prebuilt: page `n` of `pages` links to page `n + 1`.
#[derive(Debug)]
pub struct Pages {
    /// The body of `Patient/1`.
    pub patient: Bytes,
    pages: Vec<Bytes>,
}

impl Pages {
    /// `pages` pages of `per_page` Patients each; `base` is the server's FHIR base URL.
    pub fn new(base: &str, pages: usize, per_page: usize) -> Self {
        let patient = |n: usize| {
            json!({"resourceType": "Patient", "id": format!("p{n}"), "meta": {"versionId": "1", "lastUpdated": "2024-01-01T00:00:00Z"},
                   "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": format!("{n:08}")}],
                   "active": true, "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
                   "telecom": [{"system": "phone", "value": "(03) 5555 6473", "use": "work"}],
                   "gender": "male", "birthDate": "1974-12-25",
                   "address": [{"use": "home", "line": ["534 Erewhon St"], "city": "PleasantVille", "postalCode": "3999"}]})
        };
        let bodies = (0..pages)
            .map(|page| {
                let mut bundle = json!({"resourceType": "Bundle", "type": "searchset", "total": pages * per_page,
                    "entry": (0..per_page).map(|i| {
                        let n = page * per_page + i;
                        json!({"fullUrl": format!("{base}/Patient/p{n}"), "resource": patient(n), "search": {"mode": "match"}})
                    }).collect::<Vec<_>>()});
                if page + 1 < pages {
                    bundle["link"] = json!([{"relation": "next", "url": format!("{base}/Patient?page={}", page + 1)}]);
                }
                Bytes::from(serde_json::to_vec(&bundle).unwrap_or_default())
            })
            .collect();
        Self {
            patient: Bytes::from(serde_json::to_vec(&patient(1)).unwrap_or_default()),
            pages: bodies,
        }
    }

    fn body_for(&self, query: Option<&str>) -> Bytes {
        let page = query
            .and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("page=")))
            .and_then(|page| page.parse::<usize>().ok())
            .unwrap_or(0);
        self.pages.get(page).cloned().unwrap_or_default()
    }
}

/// Starts the server on a free loopback port; returns its address. `make_pages` builds the
/// pages once the base URL is known.
pub async fn start(make_pages: impl FnOnce(&str) -> Pages) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    let pages = Arc::new(make_pages(&format!("http://{addr}/fhir")));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let pages = Arc::clone(&pages);
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let pages = Arc::clone(&pages);
                    async move {
                        let body = if request.uri().path().ends_with("/Patient/1") {
                            pages.patient.clone()
                        } else {
                            pages.body_for(request.uri().query())
                        };
                        Ok::<_, Infallible>(
                            Response::builder()
                                .header("content-type", "application/fhir+json")
                                .header("etag", "W/\"1\"")
                                .body(Full::new(body))
                                .unwrap_or_default(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}
