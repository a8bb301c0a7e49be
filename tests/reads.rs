//! Reads against ycm-mock: one user, paging through every seeded user, argument checks,
//! and the opt-in reseller-limit check that reads before it updates.

mod common;

use common::*;
use std::collections::BTreeSet;
use ycm::{Client, Code, Config, ListQuery, PbxCreationLimit, UserType, UserUpdate};

#[test]
fn get_user_reads_the_typed_user() {
    let server = mock();
    let client = token_client(&server);
    let read = client.get_user(13329).unwrap();
    assert_eq!(read.value.user_id, 13329);
    assert_eq!(read.value.user_type, UserType::Reseller);
    assert_eq!(read.value.created_cloud_pbx, 3);
    assert_eq!(read.info.request_id.len(), 32);
    assert_eq!(
        client.get_user(13330).unwrap().value.user_type,
        UserType::MyColleague
    );
    let err = client.get_user(99_999_999).unwrap_err();
    assert_eq!((err.code(), err.info().api_errcode), (Code::Api, 20001));
}

#[test]
fn paging_returns_every_user_exactly_once() {
    let server = mock();
    let client = token_client(&server);
    let mut seen = BTreeSet::new();
    let mut sizes = Vec::new();
    for page in 1..=3 {
        let read = client
            .list_users(&ListQuery::new(50, page, Some("userId")).unwrap())
            .unwrap();
        assert_eq!(read.value.total, 120);
        sizes.push(read.value.list.len());
        for user in read.value.list {
            assert!(seen.insert(user.user_id), "user {} twice", user.user_id);
        }
    }
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(seen.len(), 120);
    let page = client
        .list_users(&ListQuery::new(5, 1, Some("-userId")).unwrap())
        .unwrap();
    let ids: Vec<i64> = page.value.list.iter().map(|u| u.user_id).collect();
    let mut sorted = ids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted);
}

#[test]
fn reseller_limit_check_refuses_locally_after_one_read() {
    let server = mock();
    let config = Config::new(
        &server.url(),
        ycm::Auth::AccessToken(ycm::Secret::new(TOKEN)),
    )
    .unwrap()
    .check_reseller_limit(true);
    let client = Client::new(config).unwrap();
    let limit = |n| UserUpdate::new().pbx_creation_limit(PbxCreationLimit::AtMost(n));

    let err = client.update_user(13330, &limit(5)).unwrap_err();
    assert_eq!(err.code(), Code::InvalidBody);
    assert!(err.to_string().contains("resellers only"), "{err}");
    let err = client.update_user(13329, &limit(2)).unwrap_err();
    assert_eq!(err.code(), Code::InvalidBody);
    assert!(err.to_string().contains("below the 3 Cloud PBXs"), "{err}");
    let stats = server.stats();
    assert_eq!((stats.get_user, stats.update_user), (2, 0));

    let done = client.update_user(13329, &limit(3)).unwrap();
    assert_eq!(done.info.attempts, 2, "one read, one update");
    client
        .update_user(
            13329,
            &UserUpdate::new().pbx_creation_limit(PbxCreationLimit::Unlimited),
        )
        .unwrap();
    assert_eq!(
        server.stats().get_user,
        3,
        "no read for the empty-string limit"
    );
}
