//! The roles of khlang accounts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A role. Services (upstream systems) and devices (scanners) are roles too,
/// so that every actor is authorised the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including accounts and credentials.
    Admin,
    /// Catalog, warehouses, stock and reports.
    Manager,
    /// Stock movements and shipments on the floor.
    WarehouseStaff,
    /// Read-only reports.
    ReportViewer,
    /// An upstream system (ERP, shop) with narrow scopes.
    Service,
    /// A warehouse scanner with narrow scopes.
    Device,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Manager,
        Role::WarehouseStaff,
        Role::ReportViewer,
        Role::Service,
        Role::Device,
    ];

    /// The wire name of the role.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::WarehouseStaff => "warehouse_staff",
            Role::ReportViewer => "report_viewer",
            Role::Service => "service",
            Role::Device => "device",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text named no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
