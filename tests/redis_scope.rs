//! The Redis scope against a real `redis-server` and ycm-mock: clients that share nothing but
//! the Redis URL (as processes on different hosts do) make one grant, one failed grant for a
//! wrong secret, and wait out one shared 429 pause; a Redis that is killed, restarted empty
//! or slow never fails a call and is rejoined; passwords and TLS work and their failures
//! are reported at client creation without the password.

mod common;
#[path = "../mock/tests/support/pki.rs"]
mod pki;
#[path = "common/redis.rs"]
mod redis_server;

use common::*;
use redis_server::{RedisOptions, RedisServer, SlowLink};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use ycm::{Client, Code, Config, Scope, UserUpdate};
use ycm_mock::{MockConfig, MockServer};

fn issuing(rate_limit: Option<&str>) -> MockServer {
    mock_with(MockConfig {
        access_token: None,
        rate_limit: rate_limit.map(|r| r.parse().unwrap()),
        ..MockConfig::default()
    })
}

fn config(server: &MockServer, secret: &str, redis_url: &str) -> Config {
    Config::new(&server.url(), credentials(secret))
        .unwrap()
        .shared_state(Scope::parse(redis_url).unwrap(), None)
}

fn client(server: &MockServer, secret: &str, redis_url: &str) -> Client {
    Client::new(config(server, secret, redis_url)).unwrap()
}

fn company(name: &str) -> UserUpdate {
    UserUpdate::new().company(name)
}

/// Log records of the auth target, collected while `f` runs (the sink is process-wide: tests
/// that read it hold this lock).
fn with_logs<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _held = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let records = Arc::new(Mutex::new(Vec::new()));
    let sink = records.clone();
    ycm::logging::set_sink(Some(ycm::logging::Sink {
        min_level: ycm::logging::Level::Warn,
        receive: Box::new(move |record| sink.lock().unwrap().push(record.message.to_string())),
    }));
    let value = f();
    ycm::logging::set_sink(None);
    let records = records.lock().unwrap().clone();
    (value, records)
}

#[test]
fn clients_sharing_only_the_redis_url_make_one_grant_and_one_failed_grant() {
    let Some(redis) = RedisServer::start(RedisOptions::default()) else {
        return;
    };
    let server = issuing(None);
    let fleet: Vec<Client> = (0..6)
        .map(|_| client(&server, CLIENT_SECRET, &redis.url()))
        .collect();
    std::thread::scope(|s| {
        for (i, c) in fleet.iter().enumerate() {
            s.spawn(move || c.update_user(13329, &company(&format!("c{i}"))).unwrap());
        }
    });
    assert_eq!(server.stats().token_grants, 1, "{:?}", server.stats());
    let status = fleet[0].shared_status();
    assert!(
        status.scope.starts_with("redis (redis://127.0.0.1:"),
        "{status:?}"
    );
    assert_eq!(status.grants, 1);
    assert!(status.token.is_some());
    // The key names the client by a hash only.
    let keys = redis.cli(&["--scan"]);
    assert!(
        !keys.contains(CLIENT_ID) && !keys.contains(CLIENT_SECRET),
        "{keys}"
    );
    assert!(keys.contains("ycm:{"), "{keys}");

    let wrong: Vec<Client> = (0..5)
        .map(|_| client(&server, "not-the-secret", &redis.url()))
        .collect();
    for c in &wrong {
        let error = c.update_user(13329, &company("x")).unwrap_err();
        assert_eq!(error.code(), Code::Unauthorized, "{error}");
    }
    assert_eq!(server.stats().refused_grants, 1, "{:?}", server.stats());
    let error = wrong[4].update_user(13329, &company("x")).unwrap_err();
    assert!(error.message().contains("redis (redis://"), "{error}");
    assert!(error.message().contains("ycm auth reset"), "{error}");
    wrong[0].reset_shared_state();
    assert!(wrong[1].shared_status().latch.is_none());
}

#[test]
fn a_429_pauses_every_client_of_the_fleet() {
    let Some(redis) = RedisServer::start(RedisOptions::default()) else {
        return;
    };
    // 10 requests at once, then 10 a second: 4 clients x 10 updates meet it together.
    let server = issuing(Some("10/10/1"));
    let fleet: Vec<Client> = (0..4)
        .map(|_| client(&server, CLIENT_SECRET, &redis.url()))
        .collect();
    std::thread::scope(|s| {
        for (i, c) in fleet.iter().enumerate() {
            s.spawn(move || {
                for n in 0..10 {
                    c.update_user(13329, &company(&format!("{i}-{n}"))).unwrap();
                }
            });
        }
    });
    let stats = server.stats();
    // One pause shared by all: a handful of 429s, not one per client per window.
    assert!(stats.rate_limited <= 6, "{stats:?}");
    assert!(fleet[2].shared_status().throttled >= stats.rate_limited.min(1));

    // With the limit configured, the fleet keeps to it and draws none.
    let before = server.stats().rate_limited;
    let fleet: Vec<Client> = (0..4)
        .map(|_| {
            Client::new(
                config(&server, CLIENT_SECRET, &redis.url())
                    .rate_limit(Some("10/10/1".parse().unwrap())),
            )
            .unwrap()
        })
        .collect();
    redis.cli(&["FLUSHALL"]);
    std::thread::sleep(Duration::from_millis(1100)); // the mock's bucket refills
    std::thread::scope(|s| {
        for (i, c) in fleet.iter().enumerate() {
            s.spawn(move || {
                for n in 0..8 {
                    c.update_user(13329, &company(&format!("{i}-{n}"))).unwrap();
                }
            });
        }
    });
    assert_eq!(server.stats().rate_limited, before, "{:?}", server.stats());
}

#[test]
fn a_killed_restarted_or_slow_redis_fails_no_call_and_is_rejoined() {
    let Some(mut redis) = RedisServer::start(RedisOptions::default()) else {
        return;
    };
    let server = issuing(None);
    let slow = SlowLink::start(redis.port);
    let url = format!("redis://127.0.0.1:{}/0", slow.port);
    let ((), warnings) = with_logs(|| {
        let a = client(&server, CLIENT_SECRET, &url);
        let b = client(&server, CLIENT_SECRET, &url);
        a.update_user(13329, &company("up")).unwrap();
        redis.kill();
        for i in 0..5 {
            a.update_user(13329, &company(&format!("down {i}")))
                .unwrap();
            b.update_user(13329, &company(&format!("down {i}")))
                .unwrap();
        }
        redis.restart();
        std::thread::sleep(Duration::from_millis(1100)); // past the store's retry pause
        a.update_user(13329, &company("back")).unwrap();
        assert_eq!(a.shared_status().grants, 0, "restarted empty");
        // Slow answers: each step gives up after its short timeout; calls go on.
        slow.set_delay(Duration::from_secs(3));
        for i in 0..3 {
            let c =
                Client::new(config(&server, CLIENT_SECRET, &url).timeout(Duration::from_secs(2)))
                    .unwrap();
            c.update_user(13329, &company(&format!("slow {i}")))
                .unwrap();
        }
        slow.set_delay(Duration::ZERO);
    });
    let failed = warnings
        .iter()
        .filter(|w| w.contains("going on in process scope"))
        .count();
    let back = warnings
        .iter()
        .filter(|w| w.contains("usable again"))
        .count();
    assert!(failed >= 1 && back >= 1, "{warnings:#?}");
    assert!(
        failed <= 6,
        "one warning per failure streak per client: {warnings:#?}"
    );
    assert_eq!(server.stats().unauthorized, 0, "{:?}", server.stats());
}

#[test]
fn passwords_work_and_a_wrong_one_is_refused_at_creation_without_showing_it() {
    let Some(redis) = RedisServer::start(RedisOptions {
        password: Some("p@ss-w0rd/redis".into()),
        ..RedisOptions::default()
    }) else {
        return;
    };
    let server = issuing(None);
    let good = format!("redis://:p%40ss-w0rd%2Fredis@127.0.0.1:{}/0", redis.port);
    client(&server, CLIENT_SECRET, &good)
        .update_user(13329, &company("ok"))
        .unwrap();
    assert_eq!(
        Scope::parse(&good).unwrap().as_str(),
        format!("redis://:***@127.0.0.1:{}/0", redis.port)
    );
    assert!(!format!("{:?}", Scope::parse(&good).unwrap()).contains("w0rd"));
    for bad in [
        format!("redis://:wrong-password@127.0.0.1:{}/0", redis.port),
        format!("redis://127.0.0.1:{}/0", redis.port),
    ] {
        let error = Client::new(config(&server, CLIENT_SECRET, &bad)).unwrap_err();
        assert_eq!(error.code(), Code::InvalidArgument, "{error}");
        let message = error.message();
        assert!(message.contains("config key \"shared_state\""), "{message}");
        assert!(!message.contains("wrong-password"), "{message}");
    }
}

#[test]
fn tls_with_a_private_ca_works_and_an_untrusted_server_is_refused_at_creation() {
    let ca = pki::Ca::new("ycm redis test CA");
    let identity = ca.server(&["localhost"]);
    let dir = std::env::temp_dir().join(format!("ycm-redis-tls-{}", fastrand::u64(..)));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key, ca_file) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("ca.pem"),
    );
    std::fs::write(&cert, &identity.cert_chain_pem).unwrap();
    std::fs::write(&key, &identity.private_key_pem).unwrap();
    std::fs::write(&ca_file, ca.issuer.pem()).unwrap();
    let Some(redis) = RedisServer::start(RedisOptions {
        password: Some("tls-secret".into()),
        tls: Some((cert, key)),
    }) else {
        return;
    };
    let server = issuing(None);
    let trusted =
        Client::new(config(&server, CLIENT_SECRET, &redis.url()).ca_file(&ca_file)).unwrap();
    trusted.update_user(13329, &company("tls")).unwrap();
    assert!(trusted
        .shared_status()
        .scope
        .contains("rediss://:***@localhost"));
    assert_eq!(trusted.shared_status().grants, 1);

    let error = Client::new(config(&server, CLIENT_SECRET, &redis.url())).unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument, "{error}");
    assert!(error.message().contains("shared_state"), "{error}");
    assert!(!error.message().contains("tls-secret"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_urls_are_refused_naming_the_key_and_the_rule() {
    for (value, rule) in [
        ("redis://", "names no host"),
        ("redis://h:1/x", "database number"),
        ("redis://h:1/0?timeout=1", "query"),
        ("memcached://h:1", "must start with redis:// or rediss://"),
        ("redis://:hunter2@h:99999/0", "is not a URL"),
    ] {
        let error = Scope::parse(value).unwrap_err();
        assert_eq!(error.code(), Code::InvalidArgument);
        assert!(error.message().contains("\"shared_state\""), "{error}");
        assert!(error.message().contains(rule), "{value}: {error}");
        assert!(!error.message().contains("hunter2"), "{error}");
    }
}
