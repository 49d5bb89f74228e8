//! The stock movement handlers: each authorizes, then hands a stock
//! command to the write path ([`crate::write`]). Commands on a transfer
//! or a reservation are keyed by the item it was made on, read first.

use axum::extract::{Path, State};
use axum::response::Response;
use khlang_contract::stock::{
    Adjust, Commit, Count, Issue, Receive, Release, Reserve, SetMinimum, StockCommand,
    TransferCancel, TransferOut, TransferReceive,
};
use khlang_contract::Envelope;
use uuid::Uuid;

use super::reads::{find_reservation, find_transfer};
use super::requests::{
    AdjustmentRequest, CommitRequest, CountRequest, IssueRequest, MinimumRequest, ReceiptRequest,
    ReservationRequest, TransferRequest,
};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::scopes::Scope;
use crate::state::AppState;
use crate::write::{CommandAccepted, WriteRequest, Writer};

macro_rules! movement_docs {
    ($name:ident, $path:literal, $body:ty, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post, path = $path, tag = "stock",
            security(("bearer" = [])),
            params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
            request_body = $body,
            responses((status = 202, description = "Command accepted", body = CommandAccepted,
                headers(("Location" = String, description = "The command's outcome"))))
        )]
        pub async fn $name(
            State(state): State<AppState>,
            principal: Principal,
            request: WriteRequest,
        ) -> Result<Response, ApiError> {
            let writer = Writer::authorize(&state, &principal, Scope::StockWrite)?;
            writer
                .once(request, async |body| {
                    let request: $body = body.json()?;
                    let command = request.build(writer.envelope(<$body>::KIND));
                    writer.submit(command, |_| {}).await
                })
                .await
        }
    };
}

/// A movement body that makes one stock command.
trait Build {
    /// The command type.
    const KIND: &'static str;
    fn build(self, envelope: Envelope) -> StockCommand;
}

impl Build for ReceiptRequest {
    const KIND: &'static str = "Receive";
    fn build(self, envelope: Envelope) -> StockCommand {
        let mut c = StockCommand::empty(envelope, &self.sku, &self.warehouse);
        c.receive = Some(Receive {
            quantity: self.quantity,
            reference: self.reference,
        });
        c
    }
}

impl Build for IssueRequest {
    const KIND: &'static str = "Issue";
    fn build(self, envelope: Envelope) -> StockCommand {
        let mut c = StockCommand::empty(envelope, &self.sku, &self.warehouse);
        c.issue = Some(Issue {
            quantity: self.quantity,
            reference: self.reference,
        });
        c
    }
}

impl Build for AdjustmentRequest {
    const KIND: &'static str = "Adjust";
    fn build(self, envelope: Envelope) -> StockCommand {
        let mut c = StockCommand::empty(envelope, &self.sku, &self.warehouse);
        c.adjust = Some(Adjust {
            delta: self.delta,
            reason: self.reason,
            note: self.note,
        });
        c
    }
}

impl Build for CountRequest {
    const KIND: &'static str = "Count";
    fn build(self, envelope: Envelope) -> StockCommand {
        let mut c = StockCommand::empty(envelope, &self.sku, &self.warehouse);
        c.count = Some(Count {
            counted: self.counted,
            note: self.note,
        });
        c
    }
}

impl Build for MinimumRequest {
    const KIND: &'static str = "SetMinimum";
    fn build(self, envelope: Envelope) -> StockCommand {
        let mut c = StockCommand::empty(envelope, &self.sku, &self.warehouse);
        c.set_minimum = Some(SetMinimum {
            minimum: self.minimum,
        });
        c
    }
}

movement_docs!(
    receive,
    "/v1/stock/receipts",
    ReceiptRequest,
    "Goods arrive at a warehouse."
);
movement_docs!(
    issue,
    "/v1/stock/issues",
    IssueRequest,
    "Goods leave a warehouse without a reservation."
);
movement_docs!(
    adjust,
    "/v1/stock/adjustments",
    AdjustmentRequest,
    "Change on hand for a reason (count correction, damaged, expired, lost, found)."
);
movement_docs!(
    count,
    "/v1/stock/counts",
    CountRequest,
    "Record a stock count: on hand becomes the counted units."
);
movement_docs!(
    minimum,
    "/v1/stock/minimums",
    MinimumRequest,
    "Override (or clear) the minimum of a product at one warehouse."
);

/// Start a transfer between warehouses.
#[utoipa::path(
    post, path = "/v1/stock/transfers", tag = "stock",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = TransferRequest,
    responses((status = 202, description = "Command accepted", body = CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn transfer(
    State(state): State<AppState>,
    principal: Principal,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::StockWrite)?;
    writer
        .once(request, async |body| {
            let request: TransferRequest = body.json()?;
            let transfer_id = request
                .transfer_id
                .clone()
                .unwrap_or_else(|| Uuid::now_v7().to_string());
            let command = transfer_out(&writer, transfer_id.clone(), request);
            writer
                .submit(command, |body| body.transfer_id = Some(transfer_id))
                .await
        })
        .await
}

fn transfer_out(
    writer: &Writer<'_>,
    transfer_id: String,
    request: TransferRequest,
) -> StockCommand {
    let mut c = StockCommand::empty(
        writer.envelope("TransferOut"),
        &request.sku,
        &request.from_warehouse,
    );
    c.transfer_out = Some(TransferOut {
        transfer_id,
        to_warehouse: request.to_warehouse,
        quantity: request.quantity,
    });
    c
}

/// The destination confirms a transfer arrived.
#[utoipa::path(
    post, path = "/v1/stock/transfers/{id}/receive", tag = "stock",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Transfer id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 202, description = "Command accepted", body = CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn receive_transfer(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::StockWrite)?;
    writer
        .once(request, async |_| {
            let (sku, _, to) = find_transfer(&state, &id).await?;
            let mut c = StockCommand::empty(writer.envelope("TransferReceive"), &sku, &to);
            c.transfer_receive = Some(TransferReceive { transfer_id: id });
            writer.submit(c, |_| {}).await
        })
        .await
}

/// The source cancels a transfer that has not arrived.
#[utoipa::path(
    post, path = "/v1/stock/transfers/{id}/cancel", tag = "stock",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Transfer id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 202, description = "Command accepted", body = CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn cancel_transfer(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::StockWrite)?;
    writer
        .once(request, async |_| {
            let (sku, from, _) = find_transfer(&state, &id).await?;
            let mut c = StockCommand::empty(writer.envelope("TransferCancel"), &sku, &from);
            c.transfer_cancel = Some(TransferCancel { transfer_id: id });
            writer.submit(c, |_| {}).await
        })
        .await
}

/// Reserve units for an order line.
#[utoipa::path(
    post, path = "/v1/stock/reservations", tag = "stock",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = ReservationRequest,
    responses((status = 202, description = "Command accepted", body = CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn reserve(
    State(state): State<AppState>,
    principal: Principal,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::StockWrite)?;
    writer
        .once(request, async |body| {
            let request: ReservationRequest = body.json()?;
            let reservation_id = request
                .reservation_id
                .clone()
                .unwrap_or_else(|| Uuid::now_v7().to_string());
            let command = reservation(&writer, reservation_id.clone(), request);
            writer
                .submit(command, |body| body.reservation_id = Some(reservation_id))
                .await
        })
        .await
}

fn reservation(
    writer: &Writer<'_>,
    reservation_id: String,
    request: ReservationRequest,
) -> StockCommand {
    let envelope = writer.envelope("Reserve");
    let expires_at = envelope.occurred_at + request.ttl_seconds * 1_000_000;
    let mut c = StockCommand::empty(envelope, &request.sku, &request.warehouse);
    c.reserve = Some(Reserve {
        reservation_id,
        quantity: request.quantity,
        expires_at,
        order_ref: request.order_ref,
    });
    c
}

/// Give a reservation back.
#[utoipa::path(
    post, path = "/v1/stock/reservations/{id}/release", tag = "stock",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Reservation id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 202, description = "Command accepted", body = CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn release(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::StockWrite)?;
    writer
        .once(request, async |_| {
            let (sku, warehouse) = find_reservation(&state, &id).await?;
            let mut c = StockCommand::empty(writer.envelope("Release"), &sku, &warehouse);
            c.release = Some(Release { reservation_id: id });
            writer.submit(c, |_| {}).await
        })
        .await
}

/// Reserved goods leave on dispatch.
#[utoipa::path(
    post, path = "/v1/stock/reservations/{id}/commit", tag = "stock",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Reservation id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = CommitRequest,
    responses((status = 202, description = "Command accepted", body = CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn commit(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::StockWrite)?;
    writer
        .once(request, async |body| {
            let request: CommitRequest = body.json()?;
            let (sku, warehouse) = find_reservation(&state, &id).await?;
            let mut c = StockCommand::empty(writer.envelope("Commit"), &sku, &warehouse);
            c.commit = Some(Commit {
                reservation_id: id,
                reference: request.reference,
            });
            writer.submit(c, |_| {}).await
        })
        .await
}
