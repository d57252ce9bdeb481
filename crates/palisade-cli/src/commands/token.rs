//! `palisade token create|list|revoke`: API tokens in the state database of the data
//! directory. The secret is printed once, on creation; only its hash is kept.

use clap::Subcommand;
use palisade_state::{Role, StateDb};

use crate::{Exit, Format, Globals};

/// Subcommands of `palisade token`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print its secret (shown only this once).
    Create {
        /// Who or what uses the token, e.g. `rsyslog-dmz` or `alice`.
        #[arg(long)]
        name: String,
        /// admin (everything), analyst (query and triage), viewer (read-only),
        /// ingest (send events only).
        #[arg(long)]
        role: String,
    },
    /// List tokens (names, roles, dates; never secrets).
    List,
    /// Revoke a token by name.
    Revoke {
        /// The token's name.
        name: String,
    },
}

fn actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}

/// Runs a `palisade token` subcommand.
#[allow(clippy::print_stdout)]
pub(crate) fn run(
    command: &TokenCommand,
    data_dir: &std::path::Path,
    globals: &Globals,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let db = StateDb::open(data_dir).await?;
        match command {
            TokenCommand::Create { name, role } => {
                let role: Role =
                    role.parse().map_err(|error| Exit::Usage(anyhow::Error::new(error)))?;
                let (info, secret) =
                    db.create_token(name, role).await.map_err(|error| match error {
                        palisade_state::Error::Invalid(_) => {
                            anyhow::Error::new(Exit::Usage(error.into()))
                        }
                        other => other.into(),
                    })?;
                db.audit(
                    &actor(),
                    "token.create",
                    serde_json::json!({"name": info.name, "role": info.role}),
                )
                .await?;
                if globals.format == Some(Format::Json) {
                    println!(
                        "{}",
                        serde_json::json!({"name": info.name, "role": info.role, "token": secret})
                    );
                } else {
                    println!("{secret}");
                }
            }
            TokenCommand::List => {
                let tokens = db.tokens().await?;
                if globals.format == Some(Format::Json) {
                    println!("{}", serde_json::to_string_pretty(&tokens)?);
                } else {
                    println!("{:<24} {:<8} {:<32} revoked", "name", "role", "created");
                    for token in tokens {
                        println!(
                            "{:<24} {:<8} {:<32} {}",
                            crate::output::escape_terminal(&token.name),
                            token.role,
                            token.created_at,
                            token.revoked_at.as_deref().unwrap_or("-")
                        );
                    }
                }
            }
            TokenCommand::Revoke { name } => {
                if !db.revoke_token(name).await? {
                    return Err(
                        Exit::Usage(anyhow::anyhow!("no active token named `{name}`")).into()
                    );
                }
                db.audit(&actor(), "token.revoke", serde_json::json!({"name": name})).await?;
                if !globals.quiet {
                    println!("revoked {name}");
                }
            }
        }
        Ok(())
    })
}
