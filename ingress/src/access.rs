//! Who may call each operation: one row per OpenAPI operation, written
//! where the OpenAPI document is built, so that the document (each
//! operation's `security` and the sentence in its description) says what
//! the handlers enforce.
//!
//! The handlers enforce it (`Principal::require`); this table describes it.
//! Three things keep the two honest: a unit test below that every operation
//! of the document has a row here and every row an operation; the
//! authorization-matrix test (`ingress/tests/security.rs`), which calls
//! every operation of the served document as every role and compares the
//! answers with the reviewed table in `docs/auth.md`; and that same test
//! comparing the scope this table gives each operation with the scope column
//! of `docs/auth.md`.

use khlang_contract::Role;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::Modify;

use crate::scopes::Scope;

/// What an operation asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// Any signed-in account.
    SignedIn,
    /// A token holding the scope.
    Scope(Scope),
    /// The caller's own account, or any account with the scope.
    SelfOr(Scope),
    /// The caller's own commands; an admin's token reads every command.
    OwnCommandsOrAdmin,
}

/// Every operation of the API (method in lower case, path as in the
/// OpenAPI document) and what it asks of its caller.
pub const OPERATIONS: &[(&str, &str, Access)] = &[
    ("post", "/v1/auth/login", Access::Public),
    ("post", "/v1/auth/refresh", Access::Public),
    ("post", "/v1/auth/logout", Access::SignedIn),
    ("get", "/.well-known/jwks.json", Access::Public),
    ("get", "/v1/me", Access::SignedIn),
    ("post", "/v1/users", Access::Scope(Scope::UsersWrite)),
    ("get", "/v1/users", Access::Scope(Scope::UsersRead)),
    ("get", "/v1/users/{id}", Access::SelfOr(Scope::UsersRead)),
    ("patch", "/v1/users/{id}", Access::SelfOr(Scope::UsersWrite)),
    (
        "post",
        "/v1/users/{id}/role",
        Access::Scope(Scope::UsersWrite),
    ),
    (
        "post",
        "/v1/users/{id}/deactivate",
        Access::Scope(Scope::UsersWrite),
    ),
    (
        "post",
        "/v1/service-accounts",
        Access::Scope(Scope::UsersWrite),
    ),
    ("post", "/v1/products", Access::Scope(Scope::CatalogWrite)),
    ("get", "/v1/products", Access::Scope(Scope::CatalogRead)),
    (
        "get",
        "/v1/products/{sku}",
        Access::Scope(Scope::CatalogRead),
    ),
    (
        "patch",
        "/v1/products/{sku}",
        Access::Scope(Scope::CatalogWrite),
    ),
    (
        "post",
        "/v1/products/{sku}/discontinue",
        Access::Scope(Scope::CatalogWrite),
    ),
    (
        "put",
        "/v1/warehouses/{code}",
        Access::Scope(Scope::CatalogWrite),
    ),
    ("get", "/v1/warehouses", Access::Scope(Scope::CatalogRead)),
    (
        "get",
        "/v1/warehouses/{code}",
        Access::Scope(Scope::CatalogRead),
    ),
    (
        "post",
        "/v1/stock/receipts",
        Access::Scope(Scope::StockWrite),
    ),
    ("post", "/v1/stock/issues", Access::Scope(Scope::StockWrite)),
    (
        "post",
        "/v1/stock/adjustments",
        Access::Scope(Scope::StockWrite),
    ),
    ("post", "/v1/stock/counts", Access::Scope(Scope::StockWrite)),
    (
        "post",
        "/v1/stock/minimums",
        Access::Scope(Scope::StockWrite),
    ),
    (
        "post",
        "/v1/stock/transfers",
        Access::Scope(Scope::StockWrite),
    ),
    (
        "post",
        "/v1/stock/transfers/{id}/receive",
        Access::Scope(Scope::StockWrite),
    ),
    (
        "post",
        "/v1/stock/transfers/{id}/cancel",
        Access::Scope(Scope::StockWrite),
    ),
    (
        "post",
        "/v1/stock/reservations",
        Access::Scope(Scope::StockWrite),
    ),
    (
        "post",
        "/v1/stock/reservations/{id}/release",
        Access::Scope(Scope::StockWrite),
    ),
    (
        "post",
        "/v1/stock/reservations/{id}/commit",
        Access::Scope(Scope::StockWrite),
    ),
    (
        "get",
        "/v1/stock/items/{sku}",
        Access::Scope(Scope::StockRead),
    ),
    (
        "get",
        "/v1/stock/warehouses/{code}",
        Access::Scope(Scope::StockRead),
    ),
    ("get", "/v1/stock/ledger", Access::Scope(Scope::StockRead)),
    ("post", "/v1/scans", Access::Scope(Scope::ScansWrite)),
    ("get", "/v1/commands/{id}", Access::OwnCommandsOrAdmin),
];

/// What `method path` asks of its caller, if it is an operation.
#[must_use]
pub fn of(method: &str, path: &str) -> Option<Access> {
    OPERATIONS
        .iter()
        .find(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == path)
        .map(|(_, _, access)| *access)
}

impl Access {
    /// The scope the operation checks, if any.
    #[must_use]
    pub fn scope(self) -> Option<Scope> {
        match self {
            Access::Scope(scope) | Access::SelfOr(scope) => Some(scope),
            Access::Public | Access::SignedIn | Access::OwnCommandsOrAdmin => None,
        }
    }

    /// One Markdown paragraph for the operation's description: what it
    /// needs, and which roles have it (from [`Scope::allowed_for`]).
    #[must_use]
    pub fn describe(self) -> String {
        match self {
            Access::Public => "**Authorization:** none; no token needed.".to_owned(),
            Access::SignedIn => "**Authorization:** any signed-in account (every role).".to_owned(),
            Access::Scope(scope) => {
                format!(
                    "**Authorization:** requires scope `{scope}` ({}).",
                    holders(scope)
                )
            }
            Access::SelfOr(scope) => format!(
                "**Authorization:** the caller's own account, or any account with scope \
                 `{scope}` ({}).",
                holders(scope)
            ),
            Access::OwnCommandsOrAdmin => {
                "**Authorization:** any signed-in account, for the commands it sent; role \
                 `admin` reads every command. Another account's command answers 404 \
                 `command_not_found`."
                    .to_owned()
            }
        }
    }
}

/// "roles: `admin`, `manager`; `service` accounts when granted".
fn holders(scope: Scope) -> String {
    let mut people = Vec::new();
    let mut machines = Vec::new();
    for role in Role::ALL {
        if !Scope::allowed_for(role).contains(&scope) {
            continue;
        }
        match role {
            Role::Service | Role::Device => machines.push(format!("`{role}`")),
            _ => people.push(format!("`{role}`")),
        }
    }
    let mut text = format!("roles: {}", people.join(", "));
    if !machines.is_empty() {
        text.push_str(&format!(
            "; {} accounts when granted",
            machines.join(" and ")
        ));
    }
    text
}

/// Writes each operation's access into the document: the scope as the
/// bearer requirement's role list (OpenAPI 3.1 allows role names there for
/// non-OAuth schemes), and a paragraph at the end of its description.
/// Summaries lose their Markdown backticks on the way.
#[derive(Debug)]
pub struct Documented;

fn document(method: &str, path: &str, operation: &mut Operation) {
    let Some(access) = of(method, path) else {
        return;
    };
    operation.security = match access {
        Access::Public => Some(Vec::new()),
        _ => Some(vec![SecurityRequirement::new(
            "bearer",
            access.scope().map(|s| s.as_str().to_owned()),
        )]),
    };
    // a summary is plain text (only descriptions are Markdown): the docs
    // page would show the backticks of `catalog:read`
    if let Some(summary) = &mut operation.summary {
        *summary = summary.replace('`', "");
    }
    let mut description = operation.description.take().unwrap_or_default();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(&access.describe());
    operation.description = Some(description);
}

impl Modify for Documented {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            for (method, operation) in [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("patch", &mut item.patch),
                ("put", &mut item.put),
                ("delete", &mut item.delete),
            ] {
                if let Some(operation) = operation {
                    document(method, path, operation);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::OpenApi as _;

    use super::*;
    use crate::openapi::ApiDoc;

    fn operations_of_document() -> BTreeSet<(String, String)> {
        let value = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        let mut found = BTreeSet::new();
        if let Some(paths) = value["paths"].as_object() {
            for (path, item) in paths {
                for method in item.as_object().into_iter().flat_map(|o| o.keys()) {
                    if ["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                        found.insert((method.clone(), path.clone()));
                    }
                }
            }
        }
        found
    }

    #[test]
    fn every_operation_has_exactly_one_row() {
        let rows: Vec<(String, String)> = OPERATIONS
            .iter()
            .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        let unique: BTreeSet<_> = rows.iter().cloned().collect();
        assert_eq!(unique.len(), rows.len(), "a row is written twice");
        assert_eq!(
            unique,
            operations_of_document(),
            "OPERATIONS and the OpenAPI document disagree"
        );
    }

    #[test]
    fn the_document_names_the_scope_and_its_roles() {
        let value = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        let receipts = &value["paths"]["/v1/stock/receipts"]["post"];
        assert_eq!(
            receipts["security"],
            serde_json::json!([{ "bearer": ["stock:write"] }])
        );
        let description = receipts["description"].as_str().unwrap_or_default();
        assert!(
            description.contains(
                "requires scope `stock:write` (roles: `admin`, `manager`, `warehouse_staff`; \
                 `service` accounts when granted)"
            ),
            "{description}"
        );
        let login = &value["paths"]["/v1/auth/login"]["post"];
        assert_eq!(login["security"], serde_json::json!([]));
    }
}
