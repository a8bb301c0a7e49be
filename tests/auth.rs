//! Token management against ycm-mock with short lifetimes: first fetch, renewal across
//! expiries, 401 -> renew -> replay, revoked refresh tokens, refused secrets (never
//! retried), and one shared fetch for many threads.

mod common;

use common::*;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use ycm::{Client, Code, Config, UserUpdate};

fn company(name: &str) -> UserUpdate {
    UserUpdate::new().company(name)
}

#[test]
fn credentials_fetch_a_token_once_and_reuse_it() {
    let server = mock_issuing(Duration::from_secs(1800));
    let client = credentials_client(&server);
    for i in 0..5 {
        client
            .update_user(13329, &company(&format!("c{i}")))
            .unwrap();
    }
    let stats = server.stats();
    assert_eq!((stats.token_requests, stats.update_user), (1, 5));
    let token_request = &server.log()[0];
    assert_eq!(token_request.path, "/dm/open_api/oauth/token");
    assert_eq!(
        token_request.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert!(token_request.body.contains("grant_type=client_credentials"));
    assert!(token_request.user_agent.is_some());
    assert!(!format!("{:?}", server.log()).contains(CLIENT_SECRET));
}

#[test]
fn a_run_across_several_expiries_never_fails() {
    let server = mock_issuing(Duration::from_secs(2));
    let client = credentials_client(&server);
    let started = Instant::now();
    let mut calls = 0;
    while started.elapsed() < Duration::from_millis(4500) {
        client
            .update_user(13329, &company(&format!("run {calls}")))
            .unwrap();
        calls += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = server.stats();
    assert_eq!(
        stats.unauthorized, 0,
        "tokens were renewed before they expired"
    );
    assert!(
        (2..=5).contains(&stats.token_requests),
        "{stats:?} after {calls} calls"
    );
    assert!(server
        .log()
        .iter()
        .any(|r| r.body.contains("grant_type=refresh_token")));
}

#[test]
fn a_401_renews_the_token_and_replays_once() {
    let server = mock_issuing(Duration::from_secs(1800));
    let client = credentials_client(&server);
    client.update_user(13329, &company("before")).unwrap();
    server.expire_access_tokens();
    let done = client.update_user(13329, &company("after")).unwrap();
    assert_eq!(done.info.attempts, 3, "401, token request, replay");
    assert_eq!(server.user(13329).unwrap()["company"], "after");
    let stats = server.stats();
    assert_eq!((stats.unauthorized, stats.token_requests), (1, 2));
    assert!(server
        .log()
        .iter()
        .any(|r| r.body.contains("grant_type=refresh_token")));
}

#[test]
fn a_revoked_refresh_token_falls_back_to_client_credentials() {
    let server = mock_issuing(Duration::from_secs(1800));
    let client = credentials_client(&server);
    client.update_user(13329, &company("before")).unwrap();
    server.revoke_tokens();
    client.update_user(13329, &company("after")).unwrap();
    let grants: Vec<String> = server
        .log()
        .iter()
        .filter(|r| r.path == "/dm/open_api/oauth/token")
        .map(|r| r.body.split('&').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        grants,
        [
            "grant_type=client_credentials",
            "grant_type=refresh_token",
            "grant_type=client_credentials"
        ]
    );
}

#[test]
fn a_refused_secret_is_asked_once_and_reported_without_the_secret() {
    let server = mock_issuing(Duration::from_secs(1800));
    let config = Config::new(&server.url(), credentials("wrong-secret-value")).unwrap();
    let client = Client::new(fast(config)).unwrap();
    let err = client.update_user(13329, &company("x")).unwrap_err();
    assert_eq!(err.code(), Code::Unauthorized, "{err}");
    assert!(
        err.to_string().contains("refused the client credentials"),
        "{err}"
    );
    assert!(!err.to_string().contains("wrong-secret-value"));
    assert!(!format!("{err:?} {client:?}").contains("wrong-secret-value"));
    assert_eq!((err.info().attempts, err.info().http_status), (1, 401));
    let again = client.get_user(13329).unwrap_err();
    assert_eq!(again.code(), Code::Unauthorized);
    assert_eq!((again.info().attempts, again.info().http_status), (0, 0));
    assert!(again.to_string().contains("not sent again"), "{again}");
    let stats = server.stats();
    assert_eq!(
        (stats.token_requests, stats.update_user),
        (1, 0),
        "the secret went out once"
    );
}

#[test]
fn sixteen_threads_on_an_expired_token_share_one_fetch() {
    let server = mock_issuing(Duration::from_secs(1800));
    let client = Arc::new(credentials_client(&server));
    let barrier = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let (client, barrier) = (client.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                client.update_user(20001 + i, &company(&format!("t{i}")))
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    assert_eq!(server.stats().token_requests, 1);
    assert_eq!(server.stats().update_user, 16);
}

#[test]
fn sixteen_threads_with_a_refused_secret_send_it_once() {
    let server = mock_issuing(Duration::from_secs(1800));
    let config = Config::new(&server.url(), credentials("wrong-secret-value")).unwrap();
    let client = Arc::new(Client::new(fast(config)).unwrap());
    let barrier = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (client, barrier) = (client.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                client.update_user(13329, &company("x")).unwrap_err().code()
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), Code::Unauthorized);
    }
    assert_eq!(
        server.stats().token_requests,
        1,
        "YCM locks an IP out after 5 failures"
    );
}
