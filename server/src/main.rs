//! The `guichet` command: serve, migrate, setup, demo, import-zones, agent.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use guichet_server::config::Environment;
use guichet_server::setup::{self, Input, Sources};
use guichet_server::{AppState, Config, db, demo};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "guichet", version, about = "A city's digital counter")]
struct Cli {
    /// TOML configuration file; environment variables override its values.
    #[arg(long, short, env = "GUICHET_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Load the catalogue, the teams and the zones, and create no account (idempotent). Adds
    /// what is missing and never overwrites a démarche an admin has edited.
    Setup {
        /// Catalogue file (default: the shipped catalogue).
        #[arg(long)]
        catalogue: Option<PathBuf>,
        /// Teams file (default: the shipped example teams).
        #[arg(long)]
        teams: Option<PathBuf>,
        /// Zones, a GeoJSON FeatureCollection of polygons (default: the shipped communes).
        #[arg(long)]
        zones: Option<PathBuf>,
    },
    /// `setup` with the shipped files, plus demo agents who share a published password.
    /// Never for production: `serve` refuses to start there while they keep that password.
    Demo,
    /// Import communes (or other zones) from a GeoJSON FeatureCollection of polygons.
    ImportZones { file: PathBuf },
    /// Create or update an agent account (the first admin, typically). The password is read
    /// from GUICHET_AGENT_PASSWORD so that it never appears in the process list.
    Agent {
        email: String,
        #[arg(long)]
        name: String,
        /// agent, field, supervisor or admin.
        #[arg(long, default_value = "agent")]
        role: String,
        /// Team code; repeat for several teams.
        #[arg(long = "team")]
        teams: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")),
        )
        .init();
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    let pool = db::connect(&config.database_url, config.db_pool_size)
        .await
        .context("cannot connect to the database")?;

    match cli.command {
        Command::Migrate => {
            db::migrate(&pool).await?;
            tracing::info!("database schema is up to date");
        }
        Command::Setup {
            catalogue,
            teams,
            zones,
        } => {
            let shipped = Sources::shipped();
            let catalogue = read_optional(catalogue.as_deref())?;
            let teams = read_optional(teams.as_deref())?;
            let zones = read_optional(zones.as_deref())?;
            let sources = Sources {
                catalogue: catalogue.as_ref().map_or(shipped.catalogue, File::input),
                teams: teams.as_ref().map_or(shipped.teams, File::input),
                zones: zones.as_ref().map_or(shipped.zones, File::input),
            };
            let s = setup::run(&pool, &sources).await?;
            log_setup(&s, "set up");
        }
        Command::Demo => {
            if config.environment == Environment::Production {
                anyhow::bail!(
                    "`guichet demo` creates accounts with a published password, which \
                     GUICHET_ENV=production forbids: use `guichet setup`, then \
                     `guichet agent EMAIL --name NAME --role admin` for the first admin"
                );
            }
            let s = demo::load(&pool).await?;
            log_setup(&s.setup, "demo data loaded");
            tracing::info!(
                created = s.agents_created,
                kept = s.agents_kept,
                "demo agents: created when missing, with the password of assets/demo-agents.json; \
                 existing ones keep theirs"
            );
        }
        Command::ImportZones { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let origin = file.display().to_string();
            let mut tx = pool.begin().await?;
            let n = setup::import_communes(
                &mut tx,
                Input {
                    origin: &origin,
                    text: &text,
                },
            )
            .await?;
            tx.commit().await?;
            tracing::info!(zones = n, "zones imported");
        }
        Command::Agent {
            email,
            name,
            role,
            teams,
        } => {
            let password = std::env::var("GUICHET_AGENT_PASSWORD")
                .context("set GUICHET_AGENT_PASSWORD to the new agent's password")?;
            let input = guichet_server::agents::AgentInput {
                email,
                name,
                role,
                teams,
                password,
            };
            match guichet_server::agents::save(&pool, &input).await {
                Ok(id) => tracing::info!(id, email = %input.email, "agent saved"),
                Err(guichet_server::agents::SaveError::Invalid(errors)) => {
                    let text: Vec<String> = errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect();
                    anyhow::bail!("agent not saved: {}", text.join("; "));
                }
                Err(guichet_server::agents::SaveError::Db(e)) => return Err(e.into()),
            }
        }
        Command::Serve => serve(config, pool).await?,
    }
    Ok(())
}

/// A file given on the command line: its name (for messages) and its text.
struct File {
    origin: String,
    text: String,
}

impl File {
    fn input(&self) -> Input<'_> {
        Input {
            origin: &self.origin,
            text: &self.text,
        }
    }
}

fn read_optional(path: Option<&std::path::Path>) -> anyhow::Result<Option<File>> {
    path.map(|p| {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        Ok(File {
            origin: p.display().to_string(),
            text,
        })
    })
    .transpose()
}

fn log_setup(s: &setup::SetupSummary, what: &str) {
    tracing::info!(
        groups = s.groups,
        teams = s.teams,
        zones = s.zones,
        demarches = s.demarches(),
        added = s.added,
        updated = s.updated,
        unchanged = s.unchanged,
        kept = s.kept.len(),
        "{what}"
    );
}

async fn serve(config: Config, pool: sqlx::PgPool) -> anyhow::Result<()> {
    db::check_postgis(&pool, false).await?;
    db::check_schema(&pool).await?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let listen = config.listen;
    let environment = config.environment;
    let state = AppState::new(config, pool);
    let demo_accounts = state
        .demo_passwords
        .accounts(&state.db)
        .await
        .context("cannot check the demo accounts")?;
    if !demo_accounts.is_empty() {
        let accounts = demo_accounts.join(", ");
        if environment == Environment::Production {
            anyhow::bail!(
                "refusing to start with GUICHET_ENV=production: these accounts still have the \
                 published demo password: {accounts}. Give each a password of its own with \
                 `guichet agent EMAIL --name NAME --role ROLE [--team CODE]...` and \
                 GUICHET_AGENT_PASSWORD"
            );
        }
        tracing::warn!(
            %accounts,
            "these accounts still have the published demo password: fine for a demo, \
             refused with GUICHET_ENV=production"
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, public_url = %state.config.public_url, "Guichet is listening");
    guichet_server::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
