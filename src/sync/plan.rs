//! The plan: what a run would change. It reads the users' current state (pages of 50 sorted
//! by `userId`, or single reads when the input is small against the number of pages),
//! compares each record with it field by field, and classifies the record: `update` (with
//! the before and after of each changed field; only those are sent), `unchanged`, `invalid`
//! (a local rule, named), `unknown_user`. A field is compared whenever the server returned
//! it (whatever [`crate::fields::Readable`] says reads are documented to return, so a server
//! that shows `pbxCreationLimit` gets it compared); a field the read left out
//! (`pbxCreationLimit` on YCM as documented, `twoFactorAuthenticationEnable` from a single
//! read) is always sent and marked `not_compared`. Values are compared by what they mean
//! ([`crate::fields::text::same`]). A plan is JSON with a `format_version`; applied later, a user whose
//! current values no longer match the plan's "before" values is reported `conflict`.

use super::records::{Format, Record, Records};
use super::summary::Cost;
use super::values::{Changes, Values};
use crate::account::ListQuery;
use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::{Code, Error, Result};
use crate::fields::{self, FieldKind};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// The plan format this library writes and reads.
///
/// ```
/// assert_eq!(ycm::sync::PLAN_FORMAT_VERSION, 1);
/// ```
pub const PLAN_FORMAT_VERSION: u32 = 1;
/// Users per page when the plan reads pages.
const PAGE_SIZE: u32 = 50;
/// The most users a plan pages through (a larger `total` from a server is refused, not
/// followed into a loop of millions of requests).
const MAX_USERS: u64 = 10_000_000;
/// The `errcode` of a `Failed` envelope for a user that does not exist (ycm-mock's, as in
/// Yeastar's sibling APIs); an HTTP 404 means the same.
///
/// ```
/// assert_eq!(ycm::sync::USER_NOT_FOUND_ERRCODE, 20001);
/// ```
pub const USER_NOT_FOUND_ERRCODE: i64 = 20001;

/// What a run does with one record.
///
/// ```
/// assert_eq!(ycm::sync::Action::UnknownUser.as_str(), "unknown_user");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Some field differs: send the changed fields.
    Update,
    /// Every field already has the desired value: send nothing.
    Unchanged,
    /// The record breaks a local rule: send nothing.
    Invalid,
    /// No such user: send nothing.
    UnknownUser,
}

impl Action {
    /// The name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Invalid => "invalid",
            Action::UnknownUser => "unknown_user",
        }
    }
}

/// One field's change.
///
/// ```
/// let change = ycm::sync::Change { before: None, after: serde_json::json!(""), not_compared: true };
/// assert!(change.not_compared);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The current value as read; `None` when no read returns the field.
    pub before: Option<Value>,
    /// The desired value (sent).
    pub after: Value,
    /// The field could not be compared (no read returns it), so it is sent regardless.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_compared: bool,
}

/// What the plan says of one record.
///
/// ```
/// let plan = ycm::sync::Plan::from_json(r#"{"format_version":1,"input_hash":"h","input_format":"csv","items":[{"row":2,"userId":7,"action":"update","changes":{"company":{"before":"Old","after":"New"}},"desired":{"company":"New"}}]}"#)?;
/// assert_eq!(plan.items[0].body()["company"], "New");
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    /// The record's row in the input.
    pub row: usize,
    /// The user (absent when the record's id is unreadable).
    #[serde(rename = "userId")]
    pub user_id: Option<i64>,
    /// What a run does with it.
    pub action: Action,
    /// For `update`: the fields to send, by wire name, in the record's order.
    #[serde(default, skip_serializing_if = "Changes::is_empty")]
    pub changes: Changes,
    /// Every field the record sets (the failed-rows file writes them back).
    pub desired: Values,
    /// For `invalid` and `unknown_user`: why, naming the column and the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PlanItem {
    /// The body a run sends for this item: its changed fields.
    pub fn body(&self) -> Map<String, Value> {
        self.changes.body()
    }
}

/// What a run would do with every record, in input order.
///
/// ```
/// let plan = ycm::sync::Plan::from_json(r#"{"format_version":1,"input_hash":"h","input_format":"jsonl","items":[]}"#)?;
/// assert!(plan.counts().is_empty() && !plan.fresh);
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// SHA-256 of the input it was made from.
    pub input_hash: String,
    /// The input's format.
    pub input_format: Format,
    /// One item per record.
    pub items: Vec<PlanItem>,
    /// Made now from a fresh read (`true`) or loaded from JSON (then every update is
    /// checked against the current values before it is sent).
    #[serde(skip)]
    pub fresh: bool,
    /// What its reads cost, when it was made in this process (zero when loaded from JSON):
    /// part of the cost, and so of the summary, of the run that applies it.
    #[serde(skip)]
    pub cost: Cost,
}

impl Plan {
    /// Reads the current state of the records' users and plans each record.
    ///
    /// ```no_run
    /// # let client = ycm::Client::from_json(r#"{"base_url":"http://127.0.0.1:1","access_token":"t"}"#)?;
    /// let records = ycm::sync::read_records(std::path::Path::new("users.csv"))?;
    /// let plan = ycm::sync::Plan::build(&client, &records, None)?;
    /// println!("{:?}", plan.counts());
    /// # Ok::<(), ycm::Error>(())
    /// ```
    pub fn build(client: &Client, records: &Records, cancel: Option<&Cancel>) -> Result<Plan> {
        let started = std::time::Instant::now();
        let grants = client.shared_status().grants;
        let mut requests = 0;
        let items = plan_items(client, &records.records, cancel, &mut requests)?;
        Ok(Plan {
            format_version: PLAN_FORMAT_VERSION,
            input_hash: records.input_hash.clone(),
            input_format: records.format,
            items,
            fresh: true,
            cost: Cost {
                requests,
                token_grants: client.shared_status().grants.saturating_sub(grants),
                duration_s: started.elapsed().as_secs_f64(),
            },
        })
    }

    /// The number of items per action.
    pub fn counts(&self) -> BTreeMap<Action, usize> {
        let mut counts = BTreeMap::new();
        for item in &self.items {
            *counts.entry(item.action).or_insert(0) += 1;
        }
        counts
    }

    /// The plan as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan serialises")
    }

    /// A plan written by [`Plan::to_json`]; its updates are checked against the users'
    /// current values when applied.
    pub fn from_json(json: &str) -> Result<Plan> {
        let value: Value = serde_json::from_str(json).map_err(|e| {
            Error::invalid_argument(format!(
                "the plan is not JSON: {}",
                super::json_error::describe(&e)
            ))
        })?;
        match value.get("format_version").and_then(Value::as_u64) {
            Some(v) if v == u64::from(PLAN_FORMAT_VERSION) => {}
            Some(v) => {
                return Err(Error::invalid_argument(format!(
                    "the plan has format_version {v}; this library reads {PLAN_FORMAT_VERSION}"
                )))
            }
            None => {
                return Err(Error::invalid_argument(
                    "the plan has no \"format_version\"; is it a ycm plan?",
                ))
            }
        }
        let mut plan: Plan = serde_json::from_value(value).map_err(|e| {
            Error::invalid_argument(format!(
                "the plan is not a ycm plan: {}",
                super::json_error::describe(&e)
            ))
        })?;
        for item in &plan.items {
            if item.action == Action::Update {
                crate::user::UserUpdate::from_map(&item.body()).map_err(|e| {
                    Error::invalid_argument(format!(
                        "the plan's update of row {} is not valid: {}",
                        item.row,
                        e.message()
                    ))
                })?;
            }
        }
        plan.fresh = false;
        Ok(plan)
    }
}

/// A user's current state, and the kind of read that returned it (which decides which
/// fields it holds: [`crate::fields::Readable`]).
pub(crate) struct Current {
    pub values: Map<String, Value>,
    /// Read from a page of the users list (else a single read).
    pub listed: bool,
}

/// The item of every record. The current state is read page by page (unless single reads
/// cost fewer requests), and each user is compared as its page arrives: only one page of
/// users is held at a time, whatever the size of the input. `requests` counts the HTTP
/// attempts of the reads.
fn plan_items(
    client: &Client,
    records: &[Record],
    cancel: Option<&Cancel>,
    requests: &mut u64,
) -> Result<Vec<PlanItem>> {
    let mut items: Vec<Option<PlanItem>> = records
        .iter()
        .map(|r| r.error.is_some().then(|| plan_record(r, None)))
        .collect();
    let index: HashMap<i64, usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.error.is_none())
        .filter_map(|(i, r)| r.user_id.map(|id| (id, i)))
        .collect();
    let settle = |id: i64, current: &Current, items: &mut Vec<Option<PlanItem>>| {
        if let Some(&i) = index.get(&id) {
            items[i] = Some(plan_record(&records[i], Some(current)));
        }
    };
    let pending = |items: &Vec<Option<PlanItem>>| items.iter().filter(|i| i.is_none()).count();
    if index.len() as u32 > PAGE_SIZE {
        let total = read_page(client, 1, cancel, requests, |id, user| {
            settle(id, user, &mut items)
        })?;
        if total > MAX_USERS {
            return Err(Error::new(
                Code::BadResponse,
                format!(
                    "the users list claims {total} users, more than the {MAX_USERS} a plan reads"
                ),
            ));
        }
        let pages = total.div_ceil(u64::from(PAGE_SIZE)).max(1);
        if pending(&items) as u64 > pages - 1 {
            for page in 2..=pages {
                read_page(client, page as u32, cancel, requests, |id, user| {
                    settle(id, user, &mut items)
                })?;
            }
        }
    }
    let calls = match cancel {
        Some(cancel) => client.with_cancel(cancel),
        None => client.without_cancel(),
    };
    for (&id, &i) in &index {
        if items[i].is_some() {
            continue;
        }
        let read = calls.get_user_data(id);
        *requests += u64::from(match &read {
            Ok((_, info)) => info.attempts,
            Err(e) => e.info().attempts,
        });
        match read {
            Ok((Value::Object(values), _)) => {
                let current = Current {
                    values,
                    listed: false,
                };
                settle(id, &current, &mut items);
            }
            Ok(_) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(e),
        }
    }
    // Whoever no read found does not exist.
    Ok(items
        .into_iter()
        .zip(records)
        .map(|(item, record)| item.unwrap_or_else(|| plan_record(record, None)))
        .collect())
}

fn is_not_found(e: &Error) -> bool {
    (e.code() == Code::Api && e.info().api_errcode == USER_NOT_FOUND_ERRCODE)
        || e.info().http_status == 404
}

/// Reads one page of users sorted by `userId`, handing each to `visit`; returns the total
/// the server reports. `requests` counts the read's HTTP attempts.
fn read_page(
    client: &Client,
    page: u32,
    cancel: Option<&Cancel>,
    requests: &mut u64,
    mut visit: impl FnMut(i64, &Current),
) -> Result<u64> {
    let query = ListQuery::new(PAGE_SIZE, page, Some("userId"))?;
    let read = match cancel {
        Some(cancel) => client.with_cancel(cancel).list_users_data(&query),
        None => client.list_users_data(&query),
    };
    *requests += u64::from(match &read {
        Ok((_, info)) => info.attempts,
        Err(e) => e.info().attempts,
    });
    let (mut data, info) = read?;
    let bad = |what: &str| {
        Error::with_info(
            Code::BadResponse,
            format!("page {page} of the users list {what}"),
            info.clone(),
        )
    };
    let total = data
        .get("total")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("has no \"total\""))?;
    let Some(Value::Array(list)) = data.get_mut("list").map(Value::take) else {
        return Err(bad("has no \"list\""));
    };
    for user in list {
        let Value::Object(values) = user else {
            return Err(bad("holds an entry that is not an object"));
        };
        let id = values
            .get("userId")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("holds a user without a \"userId\""))?;
        visit(
            id,
            &Current {
                values,
                listed: true,
            },
        );
    }
    Ok(total)
}

/// The item of one record given its user's current state (`None`: not found).
fn plan_record(record: &Record, current: Option<&Current>) -> PlanItem {
    let mut item = PlanItem {
        row: record.row,
        user_id: record.user_id,
        action: Action::Invalid,
        changes: Changes::default(),
        desired: record.fields.clone(),
        error: None,
    };
    if let Some(error) = &record.error {
        item.error = Some(if error.column.is_empty() {
            format!("row {}: {}", record.row, error.message)
        } else {
            format!(
                "row {}, column {}: {}",
                record.row, error.column, error.message
            )
        });
        return item;
    }
    let Some(user) = current else {
        item.action = Action::UnknownUser;
        item.error = Some(format!(
            "row {}: user {} does not exist",
            record.row,
            record.user_id.unwrap_or(0)
        ));
        return item;
    };
    item.changes = diff(&record.fields.to_map(), user).into_iter().collect();
    item.action = if item.changes.is_empty() {
        Action::Unchanged
    } else {
        Action::Update
    };
    item
}

/// The changes that bring `user` to `desired`.
pub(crate) fn diff(desired: &Map<String, Value>, user: &Current) -> IndexMap<String, Change> {
    let mut changes = IndexMap::new();
    for (name, after) in desired {
        let before = readable_value(name, user);
        match before {
            Some(before) if same(name, &before, after) => {}
            Some(before) => {
                changes.insert(
                    name.clone(),
                    Change {
                        before: Some(before),
                        after: after.clone(),
                        not_compared: false,
                    },
                );
            }
            None => {
                changes.insert(
                    name.clone(),
                    Change {
                        before: None,
                        after: after.clone(),
                        not_compared: true,
                    },
                );
            }
        }
    }
    changes
}

/// Whether two wire values of the field `name` mean the same.
pub(crate) fn same(name: &str, a: &Value, b: &Value) -> bool {
    match fields::by_wire(name) {
        Some(field) => fields::text::same(field, a, b),
        None => a == b,
    }
}

/// The current value of a field: what the server returned, whatever kind of read; else, for
/// a text field the kind of read behind `user` is documented to return, "" (a server may
/// leave an empty one out); else `None` (not compared).
pub(crate) fn readable_value(name: &str, user: &Current) -> Option<Value> {
    let field = fields::by_wire(name)?;
    match user.values.get(name) {
        Some(Value::Null) | None => {
            let documented = if user.listed {
                field.readable.by_list()
            } else {
                field.readable.by_get()
            };
            (documented && field.kind == FieldKind::Text).then(|| Value::String(String::new()))
        }
        Some(value) => Some(value.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn current(values: Value, listed: bool) -> Current {
        Current {
            values: values.as_object().unwrap().clone(),
            listed,
        }
    }

    #[test]
    fn only_differing_or_uncomparable_fields_are_changes() {
        let desired = json!({"company": "ACME", "remark": "", "email": "a@b.c",
            "twoFactorAuthenticationEnable": "disable", "pbxCreationLimit": 5});
        let user = current(
            json!({"company": "ACME", "email": "old@b.c", "twoFactorAuthenticationEnable": "enable"}),
            true,
        );
        let changes = diff(desired.as_object().unwrap(), &user);
        let names: Vec<_> = changes.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["email", "twoFactorAuthenticationEnable", "pbxCreationLimit"]
        );
        assert_eq!(changes["email"].before, Some(json!("old@b.c")));
        assert!(changes["pbxCreationLimit"].not_compared);
        assert_eq!(changes["pbxCreationLimit"].before, None);
        // A single read has no two-factor state: sent, not compared.
        let single = current(json!({"company": "ACME"}), false);
        let changes = diff(
            json!({"twoFactorAuthenticationEnable": "disable"})
                .as_object()
                .unwrap(),
            &single,
        );
        assert!(changes["twoFactorAuthenticationEnable"].not_compared);
        // Whatever the documented reads, a value the server returned is compared.
        let shown = current(
            json!({"pbxCreationLimit": "10", "twoFactorAuthenticationEnable": "disable"}),
            false,
        );
        let desired = json!({"pbxCreationLimit": 10, "twoFactorAuthenticationEnable": "disable"});
        assert!(diff(desired.as_object().unwrap(), &shown).is_empty());
        let changes = diff(json!({"pbxCreationLimit": ""}).as_object().unwrap(), &shown);
        assert_eq!(changes["pbxCreationLimit"].before, Some(json!("10")));
        assert!(!changes["pbxCreationLimit"].not_compared);
    }

    #[test]
    fn a_plan_round_trips_and_a_foreign_version_is_refused() {
        let plan = Plan {
            format_version: PLAN_FORMAT_VERSION,
            input_hash: "ab".into(),
            input_format: Format::Csv,
            items: vec![PlanItem {
                row: 2,
                user_id: Some(13329),
                action: Action::Update,
                changes: [(
                    "company".to_string(),
                    Change {
                        before: Some(json!("Old")),
                        after: json!("New"),
                        not_compared: false,
                    },
                )]
                .into_iter()
                .collect(),
                desired: Values::from_map(json!({"company": "New"}).as_object().unwrap()),
                error: None,
            }],
            fresh: true,
            cost: Cost::default(),
        };
        let back = Plan::from_json(&plan.to_json()).unwrap();
        assert!(!back.fresh);
        assert_eq!(back.items, plan.items);
        let other = plan
            .to_json()
            .replace("\"format_version\": 1", "\"format_version\": 7");
        let err = Plan::from_json(&other).unwrap_err();
        assert!(err.message().contains("format_version 7"), "{err}");
        let bad = plan.to_json().replace("\"New\"", "7");
        assert!(
            Plan::from_json(&bad).is_err(),
            "an invalid update in a plan is refused"
        );
    }
}
