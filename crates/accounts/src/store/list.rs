//! `GET /api/accounts`: cursor pages of stored list items, newest first.

use super::AccountStatus;
use common::db::{Db, Param};
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
    // Both conditions stay index conditions in the generic plan PostgreSQL settles on for a
    // prepared statement: the status filter is written only when asked for (two statements),
    // and a first page compares with the greatest possible key instead of skipping the test.
    // The items are joined in the order the sorted `page` yields them, with no second sort
    // (it cost 40 % of the query): PostgreSQL documents that an aggregate fed by a sorted
    // subquery keeps its order as long as that query level has no join, and this one has none
    // (the other columns are subqueries of their own).
    let status = if page.status.is_some() {
        "AND a.status = $2"
    } else {
        "AND $2::text IS NULL"
    };
    let (cursor_us, cursor_id) = match page.cursor {
        Some((us, id)) => (Param::Int64(us), id.into()),
        None => (Param::DbNull, Param::DbNull),
    };
    db.query_one(
        &format!(
            "WITH page AS MATERIALIZED (
               SELECT a.list_item, a.created_at, a.id FROM x_accounts a
               WHERE a.workspace_id = $1::uuid {status}
                 AND (a.created_at, a.id) <
                     (coalesce(timestamptz 'epoch' + $3::int8 * interval '1 microsecond',
                               'infinity'),
                      coalesce($4::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
               ORDER BY a.created_at DESC, a.id DESC LIMIT $5::int8),
             last AS (SELECT created_at, id FROM page ORDER BY created_at, id LIMIT 1)
             SELECT '[' || coalesce(string_agg(list_item, ','), '') || ']' AS items,
                    (SELECT (extract(epoch FROM created_at) * 1000000)::int8 || '.' || id
                     FROM last) AS last,
                    EXISTS (SELECT 1 FROM x_accounts a, last
                            WHERE a.workspace_id = $1::uuid {status}
                              AND (a.created_at, a.id) < (last.created_at, last.id)) AS more,
                    (SELECT account_id FROM active_accounts
                     WHERE workspace_id = $1::uuid AND user_id = $6::uuid) AS active
             FROM page"
        ),
        &[
            ws.into(),
            page.status.map(Param::from).unwrap_or(Param::DbNull),
            cursor_us,
            cursor_id,
            Param::Int64(page.limit as i64),
            user.into(),
        ],
        |row| {
            let more: bool = row.get("more")?;
            let last: Option<String> = row.get("last")?;
            Ok(ListJson {
                items: row.get("items")?,
                next: last.filter(|_| more).map(|l| pagination::encode_text(&l)),
                active: row.get("active")?,
            })
        },
    )
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
