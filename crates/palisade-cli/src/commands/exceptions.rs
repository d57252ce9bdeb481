//! `palisade exceptions add|list|revoke`: known false positives tuned out without editing
//! rules, each with an owner, a reason and an expiry (docs/detection.md).

use clap::{Args, Subcommand};
use palisade_state::{EntityKind, NewException, StateDb};

use crate::output::escape_terminal;
use crate::{Exit, Format, Globals};

/// Subcommands of `palisade exceptions`.
#[derive(Debug, Subcommand)]
pub(crate) enum ExceptionsCommand {
    /// Add an exception: alerts of RULE about this entity are kept but not listed.
    Add(AddArgs),
    /// List every exception, expired and revoked ones included.
    List,
    /// Revoke an exception by id.
    Revoke {
        /// The exception's id.
        id: i64,
    },
}

/// Arguments of `palisade exceptions add`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("entity").required(true).args(["user", "host", "ip", "domain"])))]
pub(crate) struct AddArgs {
    /// The rule's id (`palisade rules list`), or `*` for every rule.
    #[arg(long)]
    rule: String,
    /// A user name.
    #[arg(long)]
    user: Option<String>,
    /// A host name.
    #[arg(long)]
    host: Option<String>,
    /// An address or a CIDR network.
    #[arg(long)]
    ip: Option<String>,
    /// A domain, or `*.example.com` for it and its subdomains.
    #[arg(long)]
    domain: Option<String>,
    /// Who answers for the exception.
    #[arg(long)]
    owner: String,
    /// Why these alerts are not worth anyone's time.
    #[arg(long)]
    reason: String,
    /// How long it applies (`7d`, `12h`), or an RFC 3339 time.
    #[arg(long, default_value = "30d")]
    expires: String,
}

fn actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}

/// Runs an `exceptions` subcommand.
#[allow(clippy::print_stdout)]
pub(crate) fn run(
    command: &ExceptionsCommand,
    data_dir: &std::path::Path,
    globals: &Globals,
) -> anyhow::Result<()> {
    let usage = |message: String| anyhow::Error::new(Exit::Usage(anyhow::anyhow!(message)));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let db = StateDb::open(data_dir).await?;
        match command {
            ExceptionsCommand::Add(args) => {
                let (entity, value) = [
                    (EntityKind::User, &args.user),
                    (EntityKind::Host, &args.host),
                    (EntityKind::Ip, &args.ip),
                    (EntityKind::Domain, &args.domain),
                ]
                .into_iter()
                .find_map(|(kind, value)| value.clone().map(|value| (kind, value)))
                .ok_or_else(|| usage("one of --user, --host, --ip, --domain is needed".into()))?;
                let expires_at = match args.expires.parse::<jiff::Timestamp>() {
                    Ok(time) => time,
                    Err(_) => {
                        let span = palisade_detect::correlation::parse_timespan(&args.expires)
                            .map_err(|message| usage(format!("--expires: {message}")))?;
                        jiff::Timestamp::now()
                            .checked_add(span)
                            .map_err(|error| usage(error.to_string()))?
                    }
                };
                let new = NewException {
                    rule_id: args.rule.clone(),
                    entity,
                    value,
                    owner: args.owner.clone(),
                    reason: args.reason.clone(),
                    expires_at,
                };
                let made = db.add_exception(&new, &actor()).await.map_err(|error| match error {
                    palisade_state::Error::Invalid(message) => usage(message),
                    other => other.into(),
                })?;
                if globals.format == Some(Format::Json) {
                    println!("{}", serde_json::to_string(&made)?);
                } else if !globals.quiet {
                    println!("exception {} added, until {}", made.id, made.expires_at);
                }
            }
            ExceptionsCommand::List => {
                let all = db.exceptions().await?;
                if globals.format == Some(Format::Json) {
                    println!("{}", serde_json::to_string_pretty(&all)?);
                } else {
                    let now = jiff::Timestamp::now();
                    println!(
                        "{:<5} {:<8} {:<38} {:<7} {:<24} {:<16} {:<20} reason",
                        "id", "state", "rule", "entity", "value", "owner", "expires"
                    );
                    for exception in all {
                        let state = if exception.revoked_at.is_some() {
                            "revoked"
                        } else if exception.is_active(now) {
                            "active"
                        } else {
                            "expired"
                        };
                        println!(
                            "{:<5} {:<8} {:<38} {:<7} {:<24} {:<16} {:<20} {}",
                            exception.id,
                            state,
                            escape_terminal(&exception.rule_id),
                            exception.entity.as_str(),
                            escape_terminal(&exception.value),
                            escape_terminal(&exception.owner),
                            exception.expires_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                            escape_terminal(&exception.reason),
                        );
                    }
                }
            }
            ExceptionsCommand::Revoke { id } => {
                if !db.revoke_exception(*id, &actor()).await? {
                    return Err(usage(format!("no active exception {id}")));
                }
                if !globals.quiet {
                    println!("exception {id} revoked");
                }
            }
        }
        Ok(())
    })
}
