"""Settings, read from the environment (prefix ``VIGIL_``) with embedded defaults.

The defaults run everything on one machine: a DuckDB/Parquet incident store and a SQLite case
database under ``./vigil-data``. Production points ``VIGIL_DATABASE_URL`` at PostgreSQL.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _find_shared_data() -> Path:
    """The real datasets live in ``shared/data`` beside (or above) the checkout."""
    here = Path.cwd().resolve()
    for base in (here, *here.parents):
        for candidate in (base / "shared" / "data", base.parent / "shared" / "data"):
            if (candidate / "met-street-2022").is_dir():
                return candidate
    return here / "shared" / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore")

    data_dir: Path = Field(default=Path("vigil-data"), description="Incident store and SQLite db")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite under data_dir"
    )
    shared_data: Path = Field(default_factory=_find_shared_data)
    policy_file: Path | None = Field(default=None, description="Deployment policy YAML")
    secret_key: str = Field(default="change-me-in-production", description="Session signing key")
    cookie_secure: bool = Field(
        default=False, description="Mark session cookies Secure (set true when served over https)"
    )
    max_body_bytes: int = Field(
        default=4 * 1024**2,
        description="Largest request body (JSON, forms) accepted; larger ones get 413 unread",
    )
    max_upload_bytes: int = Field(
        default=2 * 1024**3,
        description="Largest incident file accepted by POST /api/incidents/uploads",
    )
    sweep_seconds: float = Field(
        default=60.0,
        description="How often the server writes expiries, flags overdue debriefs and "
        "checkpoints the audit log (one process at a time)",
    )
    token_hours: int = Field(
        default=12,
        ge=1,
        le=8760,
        description="How many hours an API token lasts unless issued for less (command-line "
        "access: one working day, then issue another from the page)",
    )
    token_max_hours: int = Field(
        default=720,
        ge=1,
        le=8760,
        description="The longest an API token may be asked for, hours (at least token_hours)",
    )
    signin_workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Threads that check passwords (0: half the CPU cores); sign-ins beyond "
        "these and a short queue are refused with 503 instead of starving other requests",
    )
    mode: Literal["development", "production"] = Field(
        default="development",
        description="production refuses to start without the keys it needs (audit signing key)",
    )
    audit_key_file: Path | None = Field(
        default=None,
        description="Ed25519 PEM key that signs audit checkpoints (`vigil audit keygen`); kept "
        "outside the database. Development generates one under data_dir when unset",
    )
    audit_witness_dir: Path | None = Field(
        default=None,
        description="Append-only directory outside the database where signed checkpoints are "
        "exported (oversight's copy); development defaults to data_dir/audit-witness",
    )
    audit_checkpoint_entries: int = Field(
        default=1000, ge=1, description="Sign a checkpoint after this many new audit entries"
    )
    audit_checkpoint_minutes: float = Field(
        default=10.0, gt=0, description="... or after this many minutes if the log grew at all"
    )
    import_max_bytes: int = Field(
        default=1024**3,
        description="Decompressed CSV bytes one import may read (a zip bomb stops here)",
    )
    import_max_rows: int = Field(default=5_000_000, description="Data rows one import may hold")
    import_max_line_bytes: int = Field(
        default=64 * 1024, description="Longest line an incident CSV may have"
    )
    step_up_minutes: int = Field(
        default=15,
        ge=0,
        le=24 * 60,
        description="Authorise, extend, ratify, override and account grants need an "
        "authentication this recent (0: off)",
    )
    step_up_tokens: bool = Field(
        default=True,
        description="Refuse those decisions to API tokens, which carry no authentication time "
        "(off: a token may make them, as before step-up existed)",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer URL; set it to sign in through the force's "
        "identity provider (docs/oidc.md)",
    )
    oidc_client_id: str = Field(default="", description="Vigil's client id at the provider")
    oidc_client_secret: str = Field(default="", description="Vigil's client secret")
    oidc_redirect_uri: str = Field(
        default="http://127.0.0.1:8000/auth/callback",
        description="Where the provider sends the browser back (register it there)",
    )
    oidc_claims_map: Path | None = Field(
        default=None,
        description="YAML mapping from groups/claims to role, rank and borough "
        "(vigil.identity.claims); validated at start-up, read again at every sign-in",
    )
    oidc_max_skew: int = Field(
        default=120, ge=0, le=600, description="Clock skew tolerated on ID tokens, seconds"
    )
    break_glass: bool = Field(
        default=True,
        description="With OIDC on, whether local password sign-in stays open as break-glass "
        "(each such sign-in is audited and shown to oversight)",
    )
    enable_test_clock: bool = Field(
        default=False,
        description="Expose POST /api/testing/clock to move a FixedClock (tests and demos only)",
    )

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def witness_dir(self) -> Path | None:
        """Where checkpoints are exported: the setting, else (development only, and only for the
        default database under the data directory) a folder beside it. A database named by URL
        gets no default witness, so two databases never write checkpoints into one folder."""
        if self.audit_witness_dir is not None:
            return self.audit_witness_dir
        if self.mode == "production" or self.database_url:
            return None
        return self.data_dir / "audit-witness"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'vigil.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def shared_data_dir(shared: Path | str | None = None) -> Path:
    """``shared`` when given, else the configured ``shared_data`` folder."""
    return Path(shared) if shared is not None else Path(get_settings().shared_data)
