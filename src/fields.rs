//! The one table of update fields: [`FIELDS`], one [`Field`] per field of "Update the
//! Information of a YCM User", in wire order, each with its wire name, its snake_case name
//! (Python keywords, CLI flags), the members of the C struct `ycm_user_fields` that carry
//! it, its rule ([`FieldKind`]) and which reads return it ([`Readable`]). Every other place
//! that lists the fields derives from this table or is checked against it by a test:
//! the validation in `user.rs` (its field lists are computed from the table), the C struct
//! (`ffi/fields.rs` finds each member's wire name here; a test compares `include/ycm.h`'s
//! members with the table), the read model [`crate::User`] (a test compares its serde names
//! with the readable rows), the Python keywords `UPDATE_KEYWORDS` and the README's field
//! table (`tests/declarations.rs` parses both and compares them with the table). Beside it:
//! [`USER_ID`] and [`READ_ONLY`], the other columns a read returns (what `ycm users export`
//! writes besides the update fields, recognised and ignored when records are read), and
//! [`text`], the one text form of each [`FieldKind`] (CSV cells, CLI flags, tables).

pub mod text;

/// The rule a field's value follows in an update.
///
/// ```
/// assert_eq!(ycm::fields::by_wire("pbxCreationLimit").unwrap().kind, ycm::fields::FieldKind::Limit);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// Any JSON string (`""` clears the field); never null.
    Text,
    /// Only the string `"disable"` (the API can switch two-factor authentication off, never
    /// on).
    DisableOnly,
    /// An integer from 1 to [`crate::MAX_PBX_CREATION_LIMIT`] (`i32::MAX`), or the empty
    /// string `""` for no limit.
    Limit,
}

/// Which reads return a field: what a bulk sync can compare before it sends.
///
/// ```
/// let two_factor = ycm::fields::by_wire("twoFactorAuthenticationEnable").unwrap();
/// assert!(two_factor.readable.by_list() && !two_factor.readable.by_get());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Readable {
    /// Returned by both "Query a Specific YCM User" and "Query all users".
    GetAndList,
    /// Returned by "Query all users" only (not by the single-user read).
    ListOnly,
    /// Returned by no documented read: always sent, never compared. ([`crate::User`] still
    /// keeps the value when a server reports it anyway, as an `Option`.)
    Never,
}

impl Readable {
    /// Whether "Query a Specific YCM User" returns the field.
    ///
    /// ```
    /// assert!(ycm::fields::by_wire("company").unwrap().readable.by_get());
    /// ```
    pub fn by_get(self) -> bool {
        matches!(self, Readable::GetAndList)
    }

    /// Whether "Query all users" returns the field.
    ///
    /// ```
    /// assert!(ycm::fields::by_wire("company").unwrap().readable.by_list());
    /// ```
    pub fn by_list(self) -> bool {
        matches!(self, Readable::GetAndList | Readable::ListOnly)
    }
}

/// One field of a user update.
///
/// ```
/// let field = ycm::fields::by_snake("first_name").unwrap();
/// assert_eq!(field.wire, "firstName");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Field {
    /// The name on the wire and in records (JSON keys, CSV columns), e.g. `"firstName"`.
    pub wire: &'static str,
    /// The snake_case name (Python keywords, Rust builder methods), e.g. `"first_name"`.
    pub snake: &'static str,
    /// The members of the C struct `ycm_user_fields` that carry the field, in struct order
    /// (one for most fields; `pbxCreationLimit` is a mode and a number).
    pub c_members: &'static [&'static str],
    /// The rule its value follows.
    pub kind: FieldKind,
    /// Which reads return it.
    pub readable: Readable,
}

const fn text(
    wire: &'static str,
    snake: &'static str,
    c_members: &'static [&'static str],
) -> Field {
    Field {
        wire,
        snake,
        c_members,
        kind: FieldKind::Text,
        readable: Readable::GetAndList,
    }
}

/// Every update field, in wire order (the order an update body is serialised in).
///
/// ```
/// assert_eq!(ycm::fields::FIELDS.len(), 10);
/// ```
pub const FIELDS: [Field; 10] = [
    text("company", "company", &["company"]),
    text("firstName", "first_name", &["first_name"]),
    text("lastName", "last_name", &["last_name"]),
    text("email", "email", &["email"]),
    text("phone", "phone", &["phone"]),
    text("mobile", "mobile", &["mobile"]),
    text("address", "address", &["address"]),
    text("remark", "remark", &["remark"]),
    Field {
        wire: "twoFactorAuthenticationEnable",
        snake: "two_factor_authentication_enable",
        c_members: &["disable_two_factor_authentication"],
        kind: FieldKind::DisableOnly,
        readable: Readable::ListOnly,
    },
    Field {
        wire: "pbxCreationLimit",
        snake: "pbx_creation_limit",
        c_members: &["pbx_limit_mode", "pbx_limit"],
        kind: FieldKind::Limit,
        readable: Readable::Never,
    },
];

/// The key of a user: the `userId` column of records, exports and reads.
///
/// ```
/// assert_eq!(ycm::fields::USER_ID, "userId");
/// ```
pub const USER_ID: &str = "userId";

/// What reads return besides [`USER_ID`] and the update fields, which no update can set:
/// `ycm users export` writes these columns, and the records reader recognises and ignores
/// them, so an export is valid input as it is.
///
/// ```
/// assert!(ycm::fields::is_read_only("createdCloudPbx"));
/// assert!(!ycm::fields::is_read_only("company"));
/// ```
pub const READ_ONLY: [&str; 3] = ["createdCloudPbx", "userType", "createdReseller"];

/// Whether `name` is one of the [`READ_ONLY`] columns.
pub fn is_read_only(name: &str) -> bool {
    READ_ONLY.contains(&name)
}

/// The columns of a user as exported: [`USER_ID`], every update field in table order, then
/// the [`READ_ONLY`] ones.
///
/// ```
/// let columns: Vec<_> = ycm::fields::user_columns().collect();
/// assert_eq!((columns[0], columns.len()), ("userId", 14));
/// ```
pub fn user_columns() -> impl Iterator<Item = &'static str> {
    std::iter::once(USER_ID)
        .chain(FIELDS.iter().map(|field| field.wire))
        .chain(READ_ONLY)
}

/// The field with this wire name (`"firstName"`), if it is an update field.
///
/// ```
/// assert_eq!(ycm::fields::by_wire("lastName").unwrap().snake, "last_name");
/// assert!(ycm::fields::by_wire("lastname").is_none());
/// ```
pub fn by_wire(wire: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|field| field.wire == wire)
}

/// The field with this snake_case name (`"first_name"`), if it is an update field.
///
/// ```
/// assert_eq!(ycm::fields::by_snake("remark").unwrap().wire, "remark");
/// ```
pub fn by_snake(snake: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|field| field.snake == snake)
}

/// The field carried by this member of the C struct `ycm_user_fields`.
pub(crate) fn by_c_member(member: &str) -> Option<&'static Field> {
    FIELDS
        .iter()
        .find(|field| field.c_members.contains(&member))
}

/// How many fields have this kind.
const fn count(kind: FieldKind) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < FIELDS.len() {
        if FIELDS[i].kind as u8 == kind as u8 {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The wire names of the fields of this kind, in table order (`N` is their number).
const fn wires_of<const N: usize>(kind: FieldKind) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut i, mut n) = (0, 0);
    while i < FIELDS.len() {
        if FIELDS[i].kind as u8 == kind as u8 {
            out[n] = FIELDS[i].wire;
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "N is the number of fields of the kind");
    out
}

/// The wire name of the one field of this kind (a compile error when there is not exactly
/// one).
const fn only(kind: FieldKind) -> &'static str {
    assert!(count(kind) == 1, "exactly one field has this kind");
    wires_of::<1>(kind)[0]
}

/// The wire names of the string fields, in wire order.
pub(crate) const TEXT_FIELDS: [&str; count(FieldKind::Text)] = wires_of(FieldKind::Text);
/// The wire name of the two-factor field.
pub(crate) const DISABLE_ONLY_FIELD: &str = only(FieldKind::DisableOnly);
/// The wire name of the PBX creation limit field.
pub(crate) const LIMIT_FIELD: &str = only(FieldKind::Limit);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_spelt_by_one_rule() {
        let unique = |names: Vec<&str>| names.iter().collect::<HashSet<_>>().len() == names.len();
        assert!(unique(FIELDS.iter().map(|f| f.wire).collect()));
        assert!(unique(FIELDS.iter().map(|f| f.snake).collect()));
        assert!(unique(
            FIELDS
                .iter()
                .flat_map(|f| f.c_members.iter().copied())
                .collect()
        ));
        for field in FIELDS {
            // snake_case is the camelCase wire name with each capital lowered behind a `_`.
            let snake: String = field
                .wire
                .chars()
                .flat_map(|c| {
                    let lower = c.to_ascii_lowercase();
                    (c.is_ascii_uppercase().then_some('_').into_iter()).chain([lower])
                })
                .collect();
            assert_eq!(field.snake, snake, "{}", field.wire);
            assert!(!field.c_members.is_empty(), "{}", field.wire);
            assert_eq!(by_wire(field.wire), Some(&field));
            assert_eq!(by_snake(field.snake), Some(&field));
            for member in field.c_members {
                assert_eq!(by_c_member(member), Some(&field));
            }
        }
        assert_eq!(by_wire("first_name"), None);
        assert_eq!(by_snake("firstName"), None);
    }

    #[test]
    fn the_derived_lists_follow_the_table() {
        assert_eq!(
            TEXT_FIELDS,
            [
                "company",
                "firstName",
                "lastName",
                "email",
                "phone",
                "mobile",
                "address",
                "remark"
            ]
        );
        assert_eq!(DISABLE_ONLY_FIELD, "twoFactorAuthenticationEnable");
        assert_eq!(LIMIT_FIELD, "pbxCreationLimit");
    }

    #[test]
    fn reads_return_what_ycm_api_md_documents() {
        let get: Vec<_> = FIELDS
            .iter()
            .filter(|f| f.readable.by_get())
            .map(|f| f.wire)
            .collect();
        let list: Vec<_> = FIELDS
            .iter()
            .filter(|f| f.readable.by_list())
            .map(|f| f.wire)
            .collect();
        assert_eq!(get, TEXT_FIELDS);
        assert_eq!(
            list,
            [&TEXT_FIELDS[..], &["twoFactorAuthenticationEnable"]].concat()
        );
        assert_eq!(
            FIELDS
                .iter()
                .filter(|f| f.readable == Readable::Never)
                .count(),
            1
        );
    }
}
