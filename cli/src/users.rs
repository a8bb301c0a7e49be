//! `ycm users get|list|update|export`. An update is built from the flags as a body of wire
//! names and checked by the library (`UserUpdate::from_map`), so a bad value exits 2 with
//! the library's message naming the field, before anything is sent; `--dry-run` stops
//! there and prints the body.

use crate::args::{ExportFormat, OutputFormat, Update, Users};
use crate::fail::{self, Failure};
use crate::output::{self, Rows};
use crate::signal;
use crate::ui::Progress;
use crate::Context;
use serde_json::{Map, Value};
use ycm::fields::{Field, FieldKind, FIELDS};

/// The flag of an update field: its snake_case name in kebab case, and
/// `--disable-two-factor` for the field that can only be switched off.
pub fn flag_of(field: &Field) -> String {
    match field.kind {
        FieldKind::DisableOnly => "disable-two-factor".to_string(),
        _ => field.snake.replace('_', "-"),
    }
}

/// The columns of a user in CSV and tables: `userId`, every update field, then the
/// read-only ones (declared beside the fields table, so `sync plan` ignores exactly those).
pub fn user_columns() -> Vec<String> {
    ycm::fields::user_columns().map(String::from).collect()
}

/// The narrower columns of a list shown as a table.
const TABLE_COLUMNS: [&str; 6] = [
    "userId",
    "company",
    "firstName",
    "lastName",
    "email",
    "userType",
];

/// Runs a `users` command.
pub fn run(context: &Context, command: &Users) -> Result<u8, Failure> {
    match command {
        Users::Get { id } => {
            let (client, _) = context.client()?;
            let (data, _) = client.get_user_data(*id)?;
            let object = data.as_object().cloned().unwrap_or_default();
            let mut out = std::io::stdout().lock();
            output::object(&mut out, context.format, &object).map_err(output::write_error)?;
            Ok(fail::OK)
        }
        Users::List {
            page_size,
            page,
            all,
        } => {
            let columns = match context.format {
                OutputFormat::Table => TABLE_COLUMNS.map(String::from).to_vec(),
                _ => user_columns(),
            };
            if *all {
                list_all(context, *page_size, context.format, columns)
            } else {
                let (client, _) = context.client()?;
                let query = ycm::ListQuery::new(*page_size, *page, Some("userId"))?;
                let (data, _) = client.list_users_data(&query)?;
                let mut out = std::io::stdout().lock();
                let mut rows = Rows::new(&mut out, context.format, columns)
                    .map_err(output::write_error)?
                    .cut(output::stdout_cut(context.terminal));
                for user in users_of(&data) {
                    rows.push(user).map_err(output::write_error)?;
                }
                rows.finish().map_err(output::write_error)?;
                Ok(fail::OK)
            }
        }
        Users::Export { format } => {
            let format = export_format(*format, context.global.output)?;
            list_all(context, ycm::MAX_PAGE_SIZE, format, user_columns())
        }
        Users::Update(update) => run_update(context, update),
    }
}

/// The format of `users export`: `--format`, else `--output` (csv, jsonl or json), else CSV.
/// A table is refused (an export is data for a file or a program), and so are `--format`
/// and `--output` that disagree.
pub fn export_format(
    format: Option<ExportFormat>,
    output: Option<OutputFormat>,
) -> Result<OutputFormat, Failure> {
    let from_format = format.map(|f| match f {
        ExportFormat::Csv => OutputFormat::Csv,
        ExportFormat::Jsonl => OutputFormat::Jsonl,
    });
    match (from_format, output) {
        (_, Some(OutputFormat::Table)) => Err(Failure::usage(
            "users export writes csv, jsonl or json, not a table: use --output csv|jsonl|json, or `ycm users list --all` for a table",
        )),
        (Some(a), Some(b)) if a != b => Err(Failure::usage(format!(
            "users export: --format {} and --output {} disagree: give one",
            name_of(a),
            name_of(b)
        ))),
        (Some(format), _) | (None, Some(format)) => Ok(format),
        (None, None) => Ok(OutputFormat::Csv),
    }
}

fn name_of(format: OutputFormat) -> String {
    use clap::ValueEnum;
    format
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_string())
}

fn users_of(data: &Value) -> impl Iterator<Item = &Map<String, Value>> {
    data.get("list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// Every page, sorted by `userId`, streamed to stdout with progress on stderr; Ctrl-C,
/// SIGTERM or SIGHUP stops it between pages with 128 + the signal's number.
fn list_all(
    context: &Context,
    page_size: u32,
    format: OutputFormat,
    columns: Vec<String>,
) -> Result<u8, Failure> {
    let (client, _) = context.client()?;
    signal::install();
    let mut out = std::io::stdout().lock();
    let mut rows = Rows::new(&mut out, format, columns)
        .map_err(output::write_error)?
        .cut(output::stdout_cut(context.terminal));
    let mut progress = Progress::new("users", None, context.global.quiet);
    let mut page = 1u32;
    let mut seen = 0u64;
    // A signal between pages (or one that ends a page's read) stops the list there.
    let stopped = |seen: u64| Failure {
        exit: signal::exit_code(),
        code: ycm::Code::Cancelled.name().into(),
        message: format!(
            "{} after {seen} users; the list written is incomplete",
            signal::stop_text()
        ),
        info: None,
    };
    loop {
        let query = ycm::ListQuery::new(page_size, page, Some("userId"))?;
        if signal::interrupted() {
            return Err(stopped(seen));
        }
        let (data, _) = client.list_users_data(&query).map_err(|e| {
            if signal::interrupted() {
                stopped(seen)
            } else {
                e.into()
            }
        })?;
        let total = data.get("total").and_then(Value::as_u64).unwrap_or(0);
        if page == 1 {
            progress.set_total(total);
        }
        let mut on_page = 0u64;
        for user in users_of(&data) {
            rows.push(user).map_err(output::write_error)?;
            on_page += 1;
        }
        seen += on_page;
        progress.advance(on_page);
        if on_page == 0 || seen >= total {
            break;
        }
        page += 1;
    }
    progress.finish();
    rows.finish().map_err(output::write_error)?;
    context.note(&format!("ycm: {seen} users"));
    Ok(fail::OK)
}

/// The update body of the flags, by wire name, in the table's order.
pub fn update_body(update: &Update) -> Result<Map<String, Value>, Failure> {
    let mut body = Map::new();
    for field in FIELDS {
        let value = match field.wire {
            "company" => update.company.clone().map(Value::from),
            "firstName" => update.first_name.clone().map(Value::from),
            "lastName" => update.last_name.clone().map(Value::from),
            "email" => update.email.clone().map(Value::from),
            "phone" => update.phone.clone().map(Value::from),
            "mobile" => update.mobile.clone().map(Value::from),
            "address" => update.address.clone().map(Value::from),
            "remark" => update.remark.clone().map(Value::from),
            "twoFactorAuthenticationEnable" => {
                update.disable_two_factor.then(|| Value::from("disable"))
            }
            "pbxCreationLimit" => match update.pbx_creation_limit.as_deref() {
                None => None,
                // The field's one text form, as a records cell reads it.
                Some(text) => ycm::fields::text::parse(&field, text)
                    .map_err(|rule| Failure::usage(format!("--pbx-creation-limit: {rule}")))?,
            },
            other => {
                return Err(Failure::error(format!(
                    "the update field \"{other}\" has no flag in this ycm (a bug)"
                )))
            }
        };
        if let Some(value) = value {
            body.insert(field.wire.to_string(), value);
        }
    }
    Ok(body)
}

fn run_update(context: &Context, update: &Update) -> Result<u8, Failure> {
    let body = update_body(update)?;
    let checked = ycm::UserUpdate::from_map(&body)?;
    if update.dry_run {
        let mut out = std::io::stdout().lock();
        output::object(&mut out, context.format, &body).map_err(output::write_error)?;
        context.note(&format!(
            "ycm: dry run: the update of user {} is valid; nothing was sent",
            update.id
        ));
        return Ok(fail::OK);
    }
    let (client, _) = context.client()?;
    let done = client.update_user(update.id, &checked)?;
    let mut result = Map::new();
    result.insert("userId".into(), update.id.into());
    result.insert(
        "updated".into(),
        Value::from(body.keys().cloned().collect::<Vec<_>>()),
    );
    result.insert("requestId".into(), done.info.request_id.into());
    result.insert("attempts".into(), done.info.attempts.into());
    let mut out = std::io::stdout().lock();
    let shown = match context.format {
        // A CSV cell or a table holds the list joined.
        OutputFormat::Csv | OutputFormat::Table => {
            let joined = body.keys().cloned().collect::<Vec<_>>().join(";");
            result.insert("updated".into(), joined.into());
            result
        }
        _ => result,
    };
    output::object(&mut out, context.format, &shown).map_err(output::write_error)?;
    Ok(fail::OK)
}
