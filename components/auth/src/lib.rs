//! The auth component: identity, workspaces and members, the audit log. Thin by design: the
//! router and one call per route; rules live in the identity domain crate
//! (`crates/identity`: `api`, `session`, `users`, `workspaces`, `authz`, `audit`).

// Production code never panics: a panic is a trap, which Spin answers with an empty 500.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

use common::http::{serve, Ctx, Method, Reply, Router};
use common::AppError;
use identity::session::{self, with_rate_headers};
use identity::{api, Env};
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
    serve(req, out, &router(), handle_route).await
}

async fn handle_route(route: Route, mut ctx: Ctx) -> Result<Reply, AppError> {
    let env = Env::open(&ctx, common::clock::now_ms())?;
    let (db, kv, cfg, meta, now) = (&env.db, &env.kv, &env.cfg, &env.meta, env.now_ms);
    match route {
        Route::Register => {
            let body = ctx.json().await?;
            Ok(Reply::created(session::register(
                db, kv, cfg, meta, body, now,
            )?))
        }
        Route::Login => {
            let body = ctx.json().await?;
            Ok(Reply::ok(session::login(db, kv, cfg, meta, body, now)?))
        }
        Route::Refresh => {
            let body = ctx.json().await?;
            Ok(Reply::ok(session::refresh(db, cfg, meta, body, now)?))
        }
        _ => {
            let caller = session::guard(&ctx, cfg, db, kv, now)?;
            let result = async {
                match route {
                    Route::Logout => Ok(Reply::ok(session::logout(db, meta, &caller, now)?)),
                    Route::Profile => api::profile(&env, &caller),
                    Route::UpdateProfile => api::update_profile(&env, &caller, ctx.json().await?),
                    Route::Password => {
                        let body = ctx.json().await?;
                        let data = session::change_password(db, kv, cfg, meta, &caller, body, now)?;
                        Ok(Reply::ok(data))
                    }
                    Route::Workspaces => api::list_workspaces(&env, &caller),
                    Route::CreateWorkspace => {
                        api::create_workspace(&env, &caller, ctx.json().await?)
                    }
                    Route::Workspace => api::get_workspace(&env, &caller),
                    Route::UpdateWorkspace => {
                        api::rename_workspace(&env, &caller, ctx.json().await?)
                    }
                    Route::DeleteWorkspace => api::delete_workspace(&env, &caller),
                    Route::Members => api::list_members(&env, &caller),
                    Route::AddMember => api::add_member(&env, &caller, ctx.json().await?),
                    Route::UpdateMember => {
                        let body = ctx.json().await?;
                        api::change_role(&env, &ctx, &caller, body)
                    }
                    Route::RemoveMember => api::remove_member(&env, &ctx, &caller),
                    Route::Audit => api::list_audit(&env, &ctx, &caller),
                    Route::Register | Route::Login | Route::Refresh => Err(AppError::internal(
                        "public route reached the guarded branch",
                    )),
                }
            }
            .await;
            with_rate_headers(result, &caller.rate)
        }
    }
}
