//! The auth component: identity, workspaces and members, the audit log. Thin by design: the
//! router and one call per route; rules live in the identity domain crate
//! (`crates/identity`: `api`, `session`, `users`, `workspaces`, `authz`, `audit`).

use common::db::Call;
use common::http::{Ctx, Method, Reply, Router};
use common::AppError;
use identity::{api, workspaces, Request};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[derive(Clone, Copy)]
enum Route {
    Register,
    Login,
    Refresh,
    Logout,
    Profile,
    UpdateProfile,
    Password,
    Workspaces,
    CreateWorkspace,
    Workspace,
    UpdateWorkspace,
    DeleteWorkspace,
    Members,
    AddMember,
    UpdateMember,
    RemoveMember,
    Audit,
}

fn router() -> Router<Route> {
    use Method::*;
    Router::new()
        .route(Post, "/api/auth/register", Route::Register)
        .route(Post, "/api/auth/login", Route::Login)
        .route(Post, "/api/auth/refresh", Route::Refresh)
        .route(Post, "/api/auth/logout", Route::Logout)
        .route(Get, "/api/auth/profile", Route::Profile)
        .route(Patch, "/api/auth/profile", Route::UpdateProfile)
        .route(Post, "/api/auth/password", Route::Password)
        .route(Get, "/api/workspaces", Route::Workspaces)
        .route(Post, "/api/workspaces", Route::CreateWorkspace)
        .route(Get, "/api/workspaces/:id", Route::Workspace)
        .route(Patch, "/api/workspaces/:id", Route::UpdateWorkspace)
        .route(Delete, "/api/workspaces/:id", Route::DeleteWorkspace)
        .route(Get, "/api/workspaces/:id/members", Route::Members)
        .route(Post, "/api/workspaces/:id/members", Route::AddMember)
        .route(
            Patch,
            "/api/workspaces/:id/members/:userId",
            Route::UpdateMember,
        )
        .route(
            Delete,
            "/api/workspaces/:id/members/:userId",
            Route::RemoveMember,
        )
        .route(Get, "/api/audit", Route::Audit)
}

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    identity::serve_folding(req, out, &router(), fold, route).await
}

/// The reads the guard runs in its own statement: the caller's workspaces, for the profile and
/// the workspace list.
fn fold(route: Route, _: &Ctx) -> Option<Call> {
    match route {
        Route::Profile | Route::Workspaces => Some(workspaces::of_user()),
        _ => None,
    }
}

async fn route(route: Route, mut r: Request) -> Result<Reply, AppError> {
    match route {
        Route::Register => api::register(&mut r).await,
        Route::Login => api::login(&mut r).await,
        Route::Refresh => api::refresh(&mut r).await,
        Route::Logout => api::logout(&r),
        Route::Profile => api::profile(&mut r),
        Route::UpdateProfile => api::update_profile(&mut r).await,
        Route::Password => api::change_password(&mut r).await,
        Route::Workspaces => api::list_workspaces(&mut r),
        Route::CreateWorkspace => api::create_workspace(&mut r).await,
        Route::Workspace => api::workspace(&r),
        Route::UpdateWorkspace => api::rename_workspace(&mut r).await,
        Route::DeleteWorkspace => api::delete_workspace(&r),
        Route::Members => api::members(&r),
        Route::AddMember => api::add_member(&mut r).await,
        Route::UpdateMember => api::change_role(&mut r).await,
        Route::RemoveMember => api::remove_member(&r),
        Route::Audit => api::list_audit(&r),
    }
}
