//! Shared helpers of the integration tests: start a ycm-mock on a free loopback port and
//! build clients for it.
#![allow(dead_code)]

use std::time::Duration;
use ycm::{Auth, Client, Config, Secret};
use ycm_mock::{MockConfig, MockServer};

pub const TOKEN: &str = "ycm-mock-token";
pub const CLIENT_ID: &str = "ycm-mock-client";
pub const CLIENT_SECRET: &str = "ycm-mock-secret";

pub fn mock() -> MockServer {
    mock_with(MockConfig::default())
}

pub fn mock_with(config: MockConfig) -> MockServer {
    MockServer::start("127.0.0.1:0", config).expect("mock starts")
}

/// A mock that accepts only tokens it issued, with the given access-token lifetime.
pub fn mock_issuing(ttl: Duration) -> MockServer {
    mock_with(MockConfig {
        access_token: None,
        token_ttl: ttl,
        ..MockConfig::default()
    })
}

/// Small retry waits so fault tests stay fast.
pub fn fast(config: Config) -> Config {
    config.retries(2, Duration::from_millis(10), Duration::from_millis(50))
}

pub fn token_client(server: &MockServer) -> Client {
    token_client_with(server, TOKEN)
}

pub fn token_client_with(server: &MockServer, token: &str) -> Client {
    let config = Config::new(&server.url(), Auth::AccessToken(Secret::new(token))).unwrap();
    Client::new(fast(config)).unwrap()
}

pub fn credentials(secret: &str) -> Auth {
    Auth::ClientCredentials {
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(secret),
    }
}

pub fn credentials_client(server: &MockServer) -> Client {
    let config = Config::new(&server.url(), credentials(CLIENT_SECRET)).unwrap();
    Client::new(fast(config)).unwrap()
}

/// A loopback URL on which nothing listens.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
