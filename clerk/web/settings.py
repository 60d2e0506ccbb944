"""The web desk's own settings (the ``web:`` section of config.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WebSettings(BaseModel):
    """Where the desk listens and how long sessions and review claims last."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    secure_cookies: bool = False
    session_idle_minutes: float = Field(default=15.0, gt=0)
    session_absolute_hours: float = Field(default=12.0, gt=0)
    claim_minutes: float = Field(default=5.0, gt=0)
    page_width: int = Field(default=1000, ge=200, le=4000)
    thumb_width: int = Field(default=160, ge=50, le=600)
    zoom_width: int = Field(default=2000, ge=400, le=6000)
