//! `topics plan` and `topics apply`.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use khlang_topics::{Action, ApplyOptions, ClusterState, DesiredState, Outcome, Plan};
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;

use crate::{kafka, Context, Status};

async fn current_plan(
    ctx: &Context,
    admin: &AdminClient<DefaultClientContext>,
    desired: &DesiredState,
) -> anyhow::Result<Plan> {
    let state = ClusterState::fetch(admin, desired, ctx.timeout)
        .await
        .with_context(|| format!("cannot read the cluster at {}", ctx.brokers))?;
    Ok(khlang_topics::plan(desired, &state))
}

/// Prints the plan; with `check`, drift is [`Status::Drift`].
///
/// # Errors
/// A bad topics file or an unreachable cluster.
pub async fn plan(ctx: &Context, check: bool) -> anyhow::Result<Status> {
    let desired = ctx.topics_file()?.desired();
    let admin = kafka::admin(&ctx.brokers)?;
    let plan = current_plan(ctx, &admin, &desired).await?;
    print!("{plan}");
    Ok(if check && !plan.is_empty() {
        Status::Drift
    } else {
        Status::Success
    })
}

/// Applies the plan, after confirmation unless `yes`.
///
/// # Errors
/// A bad topics file, an unreachable cluster, a failed operation, or no
/// confirmation.
pub async fn apply(
    ctx: &Context,
    allow_delete: bool,
    allow_replication_change: bool,
    yes: bool,
) -> anyhow::Result<Status> {
    let desired = ctx.topics_file()?.desired();
    let admin = kafka::admin(&ctx.brokers)?;
    let plan = current_plan(ctx, &admin, &desired).await?;
    print!("{plan}");
    if plan.is_empty() {
        return Ok(Status::Success);
    }
    let options = ApplyOptions {
        allow_delete,
        allow_replication_change,
        timeout: ctx.timeout,
    };
    let refusals = plan.refusals(&options);
    if !refusals.is_empty() {
        for refusal in &refusals {
            eprintln!("refused: {refusal}");
        }
        eprintln!("nothing applied");
        return Ok(Status::Refused);
    }
    if !yes && !confirm(plan.actions.len())? {
        eprintln!("nothing applied");
        return Ok(Status::Refused);
    }

    let report = khlang_topics::apply(&admin, &plan, &options).await?;
    let mut manual = 0;
    for (action, outcome) in &report.outcomes {
        match outcome {
            Outcome::Done => println!("done: {} {}", action.kind(), action.topic()),
            Outcome::ManualStep(what) => {
                manual += 1;
                println!("manual step: {} {}: {what}", action.kind(), action.topic());
            }
        }
    }
    wait_until_applied(ctx, &admin, &desired).await?;
    if manual == 0 {
        println!("the cluster matches {}", ctx.topics_file.display());
    } else {
        println!(
            "the cluster matches {} except for {manual} manual step(s)",
            ctx.topics_file.display()
        );
    }
    Ok(Status::Success)
}

/// Polls until the cluster shows every applied change (metadata reaches
/// the broker a moment after the controller commits it), so that a plan
/// run right after apply is empty.
async fn wait_until_applied(
    ctx: &Context,
    admin: &AdminClient<DefaultClientContext>,
    desired: &DesiredState,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + ctx.timeout;
    loop {
        let plan = current_plan(ctx, admin, desired).await?;
        let pending: Vec<&Action> = plan
            .actions
            .iter()
            .filter(|a| !matches!(a, Action::ChangeReplication { .. }))
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let what: Vec<String> = pending
                .iter()
                .map(|a| format!("{} {}", a.kind(), a.topic()))
                .collect();
            anyhow::bail!(
                "applied, but the cluster does not show it yet: {}",
                what.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn confirm(actions: usize) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!("not applying without --yes: stdin is not a terminal to confirm on");
    }
    print!("apply {actions} action(s)? [y/N] ");
    std::io::stdout()
        .flush()
        .context("cannot write to stdout")?;
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
