//! One client ID, one token and one rate budget: tokens taken per attempt, YCM's error codes
//! acted on in either HTTP style, the client-level gate, and the host scope's shared token,
//! budget and refusal latch, against ycm-mock.

mod common;

use common::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use ycm::{Client, Code, Config, Scope, UserUpdate};
use ycm_mock::{ErrorStyle, MockConfig, MockServer};

const STYLES: [ErrorStyle; 2] = [ErrorStyle::Http, ErrorStyle::Ok];

fn issuing(style: ErrorStyle, rate_limit: Option<&str>) -> MockServer {
    mock_with(MockConfig {
        access_token: None,
        error_style: style,
        rate_limit: rate_limit.map(|r| r.parse().unwrap()),
        ..MockConfig::default()
    })
}

fn private_dir() -> PathBuf {
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::env::temp_dir().join(format!("ycm-state-{}", fastrand::u64(..)));
    std::fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
    dir
}

/// A client built from credentials, in the host scope of `dir` when given.
fn client(server: &MockServer, secret: &str, dir: Option<&PathBuf>, rate: Option<&str>) -> Client {
    let mut config = Config::new(&server.url(), credentials(secret))
        .unwrap()
        .rate_limit(rate.map(|r| r.parse().unwrap()));
    if let Some(dir) = dir {
        config = config.shared_state(Scope::Host, Some(dir.clone()));
    }
    Client::new(config).unwrap()
}

fn company(name: &str) -> UserUpdate {
    UserUpdate::new().company(name)
}

#[test]
fn tokens_are_taken_per_attempt_so_none_goes_out_stale_after_a_wait() {
    // Tokens live 1 s (renewed after 0.8 s) while the server lets 2 requests a second
    // through: calls wait in the gate, and each attempt takes a token that is still fresh.
    let server = mock_with(MockConfig {
        access_token: None,
        token_ttl: Duration::from_secs(1),
        rate_limit: Some("1/2/1".parse().unwrap()),
        ..MockConfig::default()
    });
    let client = client(&server, CLIENT_SECRET, None, None);
    for i in 0..8 {
        client
            .update_user(13329, &company(&format!("c{i}")))
            .unwrap();
    }
    assert_eq!(server.stats().unauthorized, 0, "{:?}", server.stats());
}

#[test]
fn a_stale_token_code_renews_and_replays_in_either_style() {
    for style in STYLES {
        let server = issuing(style, None);
        let client = client(&server, CLIENT_SECRET, None, None);
        client.update_user(13329, &company("before")).unwrap();
        server.expire_access_tokens(); // 1000035
        let done = client.update_user(13329, &company("after")).unwrap();
        assert_eq!(done.info.attempts, 3, "{style:?}: stale, grant, replay");
        server.revoke_tokens(); // 1000036
        client.update_user(13329, &company("again")).unwrap();
        assert_eq!(server.user(13329).unwrap()["company"], "again", "{style:?}");
    }
}

#[test]
fn a_throttle_code_pauses_and_retries_in_either_style() {
    for style in STYLES {
        let server = issuing(style, Some("2/1/1"));
        let client = client(&server, CLIENT_SECRET, None, None);
        let started = Instant::now();
        for i in 0..4 {
            client
                .update_user(13329, &company(&format!("c{i}")))
                .unwrap();
        }
        assert!(server.stats().rate_limited >= 1, "{style:?}");
        assert!(started.elapsed() >= Duration::from_millis(900), "{style:?}");
    }
}

#[test]
fn with_the_servers_rate_limit_set_the_client_draws_no_429() {
    let server = issuing(ErrorStyle::Http, Some("3/2/1"));
    let client = client(&server, CLIENT_SECRET, None, Some("3/2/1"));
    for i in 0..8 {
        client
            .update_user(13329, &company(&format!("c{i}")))
            .unwrap();
    }
    assert_eq!(server.stats().rate_limited, 0);
}

#[test]
fn a_refused_secret_is_latched_and_never_sent_twice_in_either_style() {
    for style in STYLES {
        let server = issuing(style, None);
        let dir = private_dir();
        let first = client(&server, "wrong", Some(&dir), None);
        let err = first.update_user(13329, &company("x")).unwrap_err();
        assert_eq!(err.code(), Code::Unauthorized, "{style:?}: {err}");
        assert_eq!(err.info().api_errcode, 1000002, "{style:?}: {err}");
        // Another client (as another process would) on the same host: fails at once.
        let second = client(&server, "wrong", Some(&dir), None);
        let err = second.update_user(13329, &company("x")).unwrap_err();
        assert_eq!(err.code(), Code::Unauthorized);
        assert!(err.message().contains("were refused at"), "{err}");
        assert!(err.message().contains("ycm auth reset"), "{err}");
        assert_eq!(err.info().attempts, 0);
        assert_eq!(server.stats().refused_grants, 1, "{style:?}");
        // The right secret is another entry: it works at once.
        client(&server, CLIENT_SECRET, Some(&dir), None)
            .update_user(13329, &company("ok"))
            .unwrap();
        // A reset clears the latch: the wrong secret is tried (and refused) once more.
        second.reset_shared_state();
        assert!(second.update_user(13329, &company("x")).is_err());
        assert_eq!(server.stats().refused_grants, 2, "{style:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn a_denied_code_is_reported_and_never_retried() {
    let server = mock_with(MockConfig {
        access_token: None,
        lockout_after: Some(1),
        ..MockConfig::default()
    });
    let _ = client(&server, "wrong", None, None).update_user(13329, &company("x"));
    let err = client(&server, CLIENT_SECRET, None, None)
        .update_user(13329, &company("x"))
        .unwrap_err();
    assert_eq!(
        (err.code(), err.info().api_errcode),
        (Code::Api, 1000042),
        "{err}"
    );
    assert_eq!(err.info().attempts, 1, "{err}");
}

#[test]
fn clients_of_one_host_share_one_token_grant() {
    let server = issuing(ErrorStyle::Http, None);
    let dir = private_dir();
    for i in 0..10 {
        client(&server, CLIENT_SECRET, Some(&dir), None)
            .update_user(13329, &company(&format!("c{i}")))
            .unwrap();
    }
    assert_eq!(server.stats().token_grants, 1);
    let status = client(&server, CLIENT_SECRET, Some(&dir), None).shared_status();
    assert!(status.scope.starts_with("host ("), "{}", status.scope);
    assert!(status.token.is_some());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn clients_of_one_host_share_one_rate_budget() {
    let server = mock();
    let dir = private_dir();
    let make = || {
        let config = Config::new(&server.url(), credentials(CLIENT_SECRET).clone())
            .unwrap()
            .rate_limit(Some("4/1/60".parse().unwrap()))
            .shared_state(Scope::Host, Some(dir.clone()))
            .timeout(Duration::from_millis(500));
        Client::new(config).unwrap()
    };
    let (a, b) = (make(), make());
    // The grant and two updates use the burst of 4 less its one request of headroom; the
    // next call of either client finds no room within its budget and sends nothing.
    a.update_user(13329, &company("a")).unwrap();
    b.update_user(13329, &company("b")).unwrap();
    let err = a.update_user(13329, &company("c")).unwrap_err();
    assert_eq!(err.code(), Code::RateLimited, "{err}");
    assert!(err.message().contains("rate_limit 4/1/60"), "{err}");
    assert_eq!(server.stats().update_user, 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_garbled_state_file_is_a_miss_not_a_failure() {
    let server = issuing(ErrorStyle::Http, None);
    let dir = private_dir();
    let first = client(&server, CLIENT_SECRET, Some(&dir), None);
    first.update_user(13329, &company("a")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        std::fs::write(entry.unwrap().path(), b"{\"token\": {\"access\": tru").unwrap();
    }
    client(&server, CLIENT_SECRET, Some(&dir), None)
        .update_user(13329, &company("b"))
        .unwrap();
    assert_eq!(server.stats().token_grants, 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_shared_state_settings_are_refused_naming_the_key() {
    for (json, names) in [
        (r#""rate_limit": "10/s""#, "BURST/RATE/INTERVAL_S"),
        (r#""shared_state": "cluster""#, "shared_state"),
        (r#""state_dir": """#, "state_dir"),
    ] {
        let config =
            format!(r#"{{"base_url": "http://127.0.0.1:1", "access_token": "t", {json}}}"#);
        let err = Client::from_json(&config).unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{json}");
        assert!(err.message().contains(names), "{json}: {err}");
    }
    let open = private_dir();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let config = format!(
        r#"{{"base_url": "http://127.0.0.1:1", "access_token": "t", "shared_state": "host", "state_dir": "{}"}}"#,
        open.display()
    );
    let err = Client::from_json(&config).unwrap_err();
    assert!(err.message().contains("chmod 700"), "{err}");
    std::fs::remove_dir_all(open).unwrap();
}

#[test]
fn the_mock_answers_with_every_code_the_client_acts_on_under_the_same_name() {
    let documented: Vec<(i64, &str)> = ycm_mock::errcode::ALL
        .iter()
        .filter(|c| c.documented_by_ycm)
        .map(|c| (c.code, c.name))
        .collect();
    for known in ycm::errcodes::KNOWN {
        if known.number == 1000043 {
            continue; // PERMISSION_DENIED: nothing in the mock is refused for that reason
        }
        assert!(
            documented.contains(&(known.number, known.name)),
            "{known:?} not in the mock's table {documented:?}"
        );
    }
    for (number, name) in documented {
        let known = ycm::errcodes::lookup(number).expect("the client knows every YCM code");
        assert_eq!(known.name, name);
    }
}

#[test]
fn an_unusable_state_file_falls_back_to_process_scope_and_the_call_works() {
    let server = issuing(ErrorStyle::Http, None);
    let dir = private_dir();
    let first = client(&server, CLIENT_SECRET, Some(&dir), None);
    first.update_user(13329, &company("a")).unwrap();
    // The state file's path becomes a directory: no step of the host store can run.
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    let other = client(&server, CLIENT_SECRET, Some(&dir), None);
    other.update_user(13329, &company("b")).unwrap();
    assert_eq!(server.user(13329).unwrap()["company"], "b");
    assert_eq!(
        server.stats().token_grants,
        2,
        "the fallback granted its own token"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
