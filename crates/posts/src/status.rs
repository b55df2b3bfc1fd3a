//! The states a post goes through (`posts.status`) and the kinds of its history
//! (`post_events.kind`), as types: Rust code compares these, and only `as_str`/`parse` know the
//! words PostgreSQL and the API use.

use common::db::Row;
use common::error::AppError;
use serde::Serialize;

/// Where a post (every part of its thread) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PostStatus {
    Draft,
    Scheduled,
    /// Claimed by a tick, which holds its lease.
    Publishing,
    Published,
    Failed,
    Cancelled,
}

impl PostStatus {
    /// Every status, in the order of the lifecycle (the metrics export one sample per status).
    pub const ALL: [PostStatus; 6] = [
        PostStatus::Draft,
        PostStatus::Scheduled,
        PostStatus::Publishing,
        PostStatus::Published,
        PostStatus::Failed,
        PostStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PostStatus::Draft => "draft",
            PostStatus::Scheduled => "scheduled",
            PostStatus::Publishing => "publishing",
            PostStatus::Published => "published",
            PostStatus::Failed => "failed",
            PostStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<PostStatus> {
        PostStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
    }

    /// Reads a status column; a word outside the table's CHECK is a bug in our SQL.
    pub fn read(row: &Row<'_>, column: &str) -> Result<PostStatus, AppError> {
        let word: String = row.get(column)?;
        PostStatus::parse(&word)
            .ok_or_else(|| AppError::internal(format!("unknown post status {word:?}")))
    }

    /// Whether the post may still be edited or rescheduled: nothing of it has gone to X.
    pub fn editable(self) -> bool {
        matches!(self, PostStatus::Draft | PostStatus::Scheduled)
    }

    /// Whether cancelling is a change of status only (nothing is at X, no tick holds it).
    pub fn cancellable(self) -> bool {
        matches!(
            self,
            PostStatus::Draft | PostStatus::Scheduled | PostStatus::Failed
        )
    }
}

impl From<crate::compose::Status> for PostStatus {
    fn from(asked: crate::compose::Status) -> PostStatus {
        match asked {
            crate::compose::Status::Draft => PostStatus::Draft,
            crate::compose::Status::Scheduled => PostStatus::Scheduled,
        }
    }
}

/// What a history event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Edited,
    Rescheduled,
    Cancelled,
    DeletedOnX,
    /// A tick is about to send a part to X (recorded before sending).
    Attempt,
    Published,
    Deferred,
    Failed,
    /// Allowed by the table; no code writes it, but reading a history must accept every kind
    /// the table does.
    Claimed,
}

impl EventKind {
    const ALL: [EventKind; 10] = [
        EventKind::Created,
        EventKind::Edited,
        EventKind::Rescheduled,
        EventKind::Cancelled,
        EventKind::DeletedOnX,
        EventKind::Attempt,
        EventKind::Published,
        EventKind::Deferred,
        EventKind::Failed,
        EventKind::Claimed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Edited => "edited",
            EventKind::Rescheduled => "rescheduled",
            EventKind::Cancelled => "cancelled",
            EventKind::DeletedOnX => "deleted_on_x",
            EventKind::Attempt => "attempt",
            EventKind::Published => "published",
            EventKind::Deferred => "deferred",
            EventKind::Failed => "failed",
            EventKind::Claimed => "claimed",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.as_str() == s)
    }

    /// Reads a kind column; a word outside the table's CHECK is a bug in our SQL.
    pub fn read(row: &Row<'_>, column: &str) -> Result<EventKind, AppError> {
        let word: String = row.get(column)?;
        EventKind::parse(&word)
            .ok_or_else(|| AppError::internal(format!("unknown post event kind {word:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_what_they_write_and_serialise_as_stored() {
        for status in PostStatus::ALL {
            assert_eq!(
                PostStatus::parse(status.as_str()),
                Some(status),
                "{status:?}"
            );
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::json!(status.as_str())),
                "{status:?}"
            );
        }
        assert_eq!(PostStatus::parse("Draft"), None, "the words are lowercase");
        assert_eq!(PostStatus::parse(""), None);
    }

    #[test]
    fn only_drafts_and_scheduled_posts_are_editable() {
        let editable: Vec<_> = PostStatus::ALL
            .into_iter()
            .filter(|s| s.editable())
            .collect();
        assert_eq!(editable, [PostStatus::Draft, PostStatus::Scheduled]);
        let cancellable: Vec<_> = PostStatus::ALL
            .into_iter()
            .filter(|s| s.cancellable())
            .collect();
        assert_eq!(
            cancellable,
            [PostStatus::Draft, PostStatus::Scheduled, PostStatus::Failed]
        );
    }

    #[test]
    fn event_kinds_read_back_what_they_write_and_serialise_as_stored() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind), "{kind:?}");
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::json!(kind.as_str())),
                "{kind:?}"
            );
        }
        assert_eq!(EventKind::DeletedOnX.as_str(), "deleted_on_x");
    }
}
