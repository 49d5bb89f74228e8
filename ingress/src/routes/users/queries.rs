//! The reads of the users processor's state (`users.*`): the only SQL of
//! the users domain in the ingress besides signing in
//! ([`crate::routes::auth::reads`]). Each returns views; the processor's
//! typed read API will take their place.

use sqlx::Row as _;
use uuid::Uuid;

use super::requests::ListQuery;
use super::views::UserView;
use crate::error::ApiError;
use crate::routes::rules::escape_like;
use crate::state::AppState;

/// The account `user_id`, if there is one.
pub(super) async fn user(state: &AppState, user_id: Uuid) -> Result<Option<UserView>, ApiError> {
    let row = sqlx::query(include_str!("../../queries/get_user_view.sql"))
        .bind(user_id)
        .fetch_optional(&state.pool)
        .await?;
    Ok(row.as_ref().map(UserView::from_row).transpose()?)
}

/// Up to `limit` accounts matching `filter`, by id, after `after`.
pub(super) async fn users(
    state: &AppState,
    filter: &ListQuery,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<UserView>, ApiError> {
    let rows = sqlx::query(include_str!("../../queries/list_users.sql"))
        .bind(&filter.role)
        .bind(filter.active)
        .bind(filter.q.as_deref().map(escape_like))
        .bind(after)
        .bind(limit)
        .fetch_all(&state.pool)
        .await?;
    Ok(rows
        .iter()
        .map(UserView::from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

impl UserView {
    fn from_row(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            user_id: row.try_get::<Uuid, _>("user_id")?.to_string(),
            email: row.try_get("email")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            role: row.try_get("role")?,
            active: row.try_get("active")?,
            scopes: row.try_get("scopes")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}
