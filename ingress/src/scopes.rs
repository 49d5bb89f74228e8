//! Scopes: what a token may do. A person's role decides their scopes; a
//! service or device account holds only the scopes an admin granted it, and
//! only from the set its kind allows.

use std::fmt;
use std::str::FromStr;

use khlang_contract::Role;

/// One permission an endpoint requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read accounts.
    UsersRead,
    /// Create and change accounts and credentials.
    UsersWrite,
    /// Read products and warehouses.
    CatalogRead,
    /// Change products and warehouses.
    CatalogWrite,
    /// Read stock levels and the ledger.
    StockRead,
    /// Move stock.
    StockWrite,
    /// Post scanner batches.
    ScansWrite,
    /// Read reports.
    ReportsRead,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 8] = [
        Scope::UsersRead,
        Scope::UsersWrite,
        Scope::CatalogRead,
        Scope::CatalogWrite,
        Scope::StockRead,
        Scope::StockWrite,
        Scope::ScansWrite,
        Scope::ReportsRead,
    ];

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::UsersRead => "users:read",
            Scope::UsersWrite => "users:write",
            Scope::CatalogRead => "catalog:read",
            Scope::CatalogWrite => "catalog:write",
            Scope::StockRead => "stock:read",
            Scope::StockWrite => "stock:write",
            Scope::ScansWrite => "scans:write",
            Scope::ReportsRead => "reports:read",
        }
    }

    /// The scopes a person with `role` has, or the most a service or device
    /// account may be granted.
    #[must_use]
    pub fn allowed_for(role: Role) -> &'static [Scope] {
        use Scope::{
            CatalogRead, CatalogWrite, ReportsRead, ScansWrite, StockRead, StockWrite, UsersRead,
        };
        match role {
            Role::Admin => &Scope::ALL,
            Role::Manager => &[
                UsersRead,
                CatalogRead,
                CatalogWrite,
                StockRead,
                StockWrite,
                ReportsRead,
            ],
            Role::WarehouseStaff => &[CatalogRead, StockRead, StockWrite],
            Role::ReportViewer => &[CatalogRead, StockRead, ReportsRead],
            Role::Service => &[
                CatalogRead,
                CatalogWrite,
                StockRead,
                StockWrite,
                ReportsRead,
            ],
            Role::Device => &[CatalogRead, StockRead, ScansWrite],
        }
    }

    /// The scopes of an account: its role's, or for a service or device the
    /// granted ones that its kind allows.
    #[must_use]
    pub fn effective(role: Role, granted: &[String]) -> Vec<Scope> {
        let allowed = Scope::allowed_for(role);
        match role {
            Role::Service | Role::Device => {
                let mut scopes: Vec<Scope> = granted
                    .iter()
                    .filter_map(|s| s.parse().ok())
                    .filter(|s| allowed.contains(s))
                    .collect();
                scopes.sort();
                scopes.dedup();
                scopes
            }
            _ => allowed.to_vec(),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_get_only_what_their_kind_allows() {
        let granted = vec!["stock:write".into(), "users:write".into(), "bogus".into()];
        assert_eq!(
            Scope::effective(Role::Service, &granted),
            vec![Scope::StockWrite]
        );
        assert_eq!(
            Scope::effective(Role::Device, &granted),
            Vec::<Scope>::new()
        );
        assert_eq!(Scope::effective(Role::Admin, &[]).len(), Scope::ALL.len());
    }

    #[test]
    fn only_admins_write_users() {
        for role in Role::ALL {
            assert_eq!(
                Scope::allowed_for(role).contains(&Scope::UsersWrite),
                role == Role::Admin
            );
        }
    }
}
