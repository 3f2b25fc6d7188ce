"""Configuration: environment variables, read once at start-up and passed in."""
from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(ValueError):
    """A setting that makes the process unsafe or unable to start."""


PLACEHOLDERS = {"changeme", "change-me", "secret", "xxx", "todo", "placeholder", "your-secret-here"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = "sqlite:///tapbot.db"
    # Plan files, comma-separated; the word "bundled" is the shipped TAP 2022–2025 (the default).
    tapbot_plans: str | None = None
    tapbot_plan: str | None = None  # the older single-file setting, still read when TAPBOT_PLANS is unset
    # Crosswalk files (old code → new codes between two plans), comma-separated, beside the bundled ones.
    tapbot_crosswalks: str = ""
    # User ids (as each channel names them) allowed to edit or delete anyone's entries.
    tapbot_admins: str = ""
    # Safe by default: only an explicit TAPBOT_ENV=development allows development settings.
    tapbot_env: str = "production"

    # Secrets never show in a log, a repr or a traceback's locals: read with .get_secret_value().
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str | None = None

    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_tenant_id: str | None = None
    teams_allow_anonymous: bool = False

    host: str = "127.0.0.1"
    port: int = Field(default=3978, validation_alias="PORT")

    @field_validator("database_url")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("DATABASE_URL is empty")
        return value.strip()

    @property
    def plan_files(self) -> list[str]:
        from plan_data.loader import plan_paths

        return plan_paths(self.tapbot_plans or self.tapbot_plan)

    @property
    def crosswalk_files(self) -> list[str]:
        return [part.strip() for part in self.tapbot_crosswalks.split(",") if part.strip()]

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.tapbot_admins.split(",") if part.strip())

    def check_for_serving(self) -> None:
        """Refuse to serve with an unsafe configuration, before any request arrives."""
        if self.slack_bot_token and not self.slack_signing_secret:
            raise ConfigError("SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: Slack requests "
                              "could not be verified. Set the signing secret from the app's Basic Information page.")
        for name in ("slack_signing_secret", "slack_bot_token", "teams_app_password"):
            value = secret(getattr(self, name))
            if value and value.strip().lower() in PLACEHOLDERS:
                raise ConfigError(f"{name.upper()} is a placeholder ({value!r}); set the real value.")

    @property
    def is_development(self) -> bool:
        return self.tapbot_env.strip().lower() == "development"

    @property
    def listens_on_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1")


def secret(value: SecretStr | None) -> str | None:
    """A secret's text, for the one call that needs it."""
    return value.get_secret_value() if value is not None else None


def load_settings() -> Settings:
    return Settings()

