//! Backend Services clients of fhir-smart sharing one Redis store against fhir-testkit's
//! SMART server: the second client (another "process") reuses the first one's token.

use std::sync::Arc;

use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::{BackendServices, HttpClient};
use fhir_smart_redis::{EncryptionKey, RedisTokenStore};
use fhir_testkit::{ClientRegistration, Sandbox};

use crate::support::RedisServer;

#[tokio::test]
async fn clients_on_one_redis_store_share_one_token() {
    let redis = RedisServer::start();
    let sandbox = Sandbox::start().await;
    let key = SigningKey::generate(SigningAlgorithm::Es384, "redis-key-1").unwrap();
    sandbox.register_client(ClientRegistration::backend_jwk("etl", key.public_jwk()));
    let secret = EncryptionKey::generate();
    let connect = || async {
        let store = RedisTokenStore::connect(&redis.url())
            .await
            .unwrap()
            .encryption(secret.clone());
        BackendServices::new(
            sandbox.fhir_base_url().parse().unwrap(),
            "etl",
            key.clone(),
            "system/Patient.rs".parse().unwrap(),
        )
        .http(HttpClient::new().allow_loopback_http(true))
        .store(Arc::new(store))
        .connect()
        .await
        .unwrap()
    };
    let first = connect().await;
    let second = connect().await;
    assert_eq!(
        first.access_token().await.unwrap().expose_secret(),
        second.access_token().await.unwrap().expose_secret()
    );
    assert_eq!(
        sandbox.token_requests().len(),
        1,
        "the second client used the stored token"
    );
    let client = fhir_core::Client::builder(&sandbox.fhir_base_url())
        .auth(second)
        .build()
        .unwrap();
    let page = client.search_json("Patient").send().await.unwrap();
    assert!(!page.entries().is_empty());
}
