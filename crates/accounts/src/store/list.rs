//! `GET /api/accounts`: cursor pages of stored list items, newest first.

use super::AccountStatus;
use common::db::{Arg, Call, Db, Param, Rows};
use common::error::AppError;
use common::pagination;
use uuid::Uuid;

/// A page of accounts, newest first. The cursor is the last row's (creation microsecond, id):
/// rows inserted while a client pages sort before the cursor's position or after it, never in
/// between, so pages neither repeat nor skip rows.
pub struct Page {
    pub limit: usize,
    pub status: Option<AccountStatus>,
    pub cursor: Option<(i64, Uuid)>,
}

impl Page {
    pub fn from_query(q: impl Fn(&str) -> Option<String>) -> Result<Page, AppError> {
        let status = match q("status").filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(AccountStatus::parse(&s).ok_or_else(|| {
                pagination::invalid(
                    "status",
                    "status must be active, needs_reauth, paused or suspended",
                )
            })?),
        };
        Ok(Page {
            limit: pagination::limit(q("limit"))?,
            status,
            cursor: pagination::cursor(q("cursor"))?,
        })
    }
}

/// A page of the list: its items as a JSON array, the next cursor and the user's active account.
pub struct ListJson {
    pub items: String,
    pub next: Option<String>,
    pub active: Option<Uuid>,
}

/// A page as one JSON array and the next cursor: the fast path of `GET /api/accounts`.
/// PostgreSQL keeps each account's list item as stored text (`list_item`, migration 0006), so a
/// page is 100 stored strings joined, with no per-value crossing into the component; `more` is
/// one index probe past the page's last row. The user's active account comes in the same
/// round trip.
pub fn list_json(db: &Db, ws: Uuid, user: Uuid, page: &Page) -> Result<ListJson, AppError> {
    from_rows(read(page).run(db, Some(ws), Some(user))?)
}

/// The read of [`list_json`], `xmp_account_page` (migration 0014, which says how its plan keeps
/// to the indexes): the one `GET /api/accounts` folds into the guard's statement.
pub fn read(page: &Page) -> Call {
    let (cursor_us, cursor_id) = match page.cursor {
        Some((us, id)) => (Param::Int64(us), id.into()),
        None => (Param::DbNull, Param::DbNull),
    };
    Call::new(
        "xmp_account_page",
        vec![
            Arg::Workspace,
            Arg::User,
            Arg::Value(
                page.status.map(Param::from).unwrap_or(Param::DbNull),
                "text",
            ),
            Arg::Value(cursor_us, "int8"),
            Arg::Value(cursor_id, "uuid"),
            Arg::Value(Param::Int64(page.limit as i64), "int8"),
        ],
    )
}

/// The page in the one row of [`read`].
pub fn from_rows(rows: Rows) -> Result<ListJson, AppError> {
    let row = rows
        .first()
        .ok_or_else(|| AppError::internal("xmp_account_page answered no row"))?;
    let more: bool = row.get("more")?;
    let last: Option<String> = row.get("last")?;
    Ok(ListJson {
        items: row.get("items")?,
        next: last.filter(|_| more).map(|l| pagination::encode_text(&l)),
        active: row.get("active")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parameters_are_checked() {
        let q = common::pagination::query_of;
        assert_eq!(Page::from_query(q(&[])).unwrap().limit, 50);
        assert_eq!(Page::from_query(q(&[("limit", "100")])).unwrap().limit, 100);
        assert_eq!(
            Page::from_query(q(&[("status", "needs_reauth")]))
                .unwrap()
                .status,
            Some(AccountStatus::NeedsReauth)
        );
        for bad in [
            &[("limit", "0")][..],
            &[("limit", "101")],
            &[("limit", "x")],
            &[("status", "gone")],
            &[("cursor", "%%%")],
        ] {
            let err = Page::from_query(q(bad)).err().expect("refused");
            assert_eq!(err.status(), 422, "{bad:?}");
        }
    }
}
