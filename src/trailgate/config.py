"""One frozen settings object, built from command-line flags and the environment.

| setting | flag | environment | default |
|---|---|---|---|
| host | ``--host`` | | ``127.0.0.1`` |
| port | ``--port`` | | ``4566`` |
| data_dir | ``--data-dir`` | | ``./data`` |
| region | ``--region`` | | ``us-east-1`` |
| delivery_interval | ``--delivery-interval`` | | 300 s (CloudTrail log delivery) |
| digest_interval | ``--digest-interval`` | | 3600 s (CloudTrail digests) |
| root_access_key_id | | ``TRAILGATE_ROOT_ACCESS_KEY_ID`` | generated on first start |
| root_secret_access_key | | ``TRAILGATE_ROOT_SECRET_ACCESS_KEY`` | generated on first start |
| management_account_id | | ``TRAILGATE_MANAGEMENT_ACCOUNT_ID`` | random 12 digits |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = Path("data")
    region: str = "us-east-1"
    delivery_interval: float = 300.0
    digest_interval: float = 3600.0
    root_access_key_id: str | None = None
    root_secret_access_key: str | None = None
    management_account_id: str | None = None

    @staticmethod
    def build(
        *,
        host: str = "127.0.0.1",
        port: int = 4566,
        data_dir: Path | str = "data",
        region: str = "us-east-1",
        delivery_interval: float = 300.0,
        digest_interval: float = 3600.0,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        env = os.environ if env is None else env
        key_id = env.get("TRAILGATE_ROOT_ACCESS_KEY_ID") or None
        secret = env.get("TRAILGATE_ROOT_SECRET_ACCESS_KEY") or None
        if (key_id is None) != (secret is None):
            raise ConfigError(
                "TRAILGATE_ROOT_ACCESS_KEY_ID and TRAILGATE_ROOT_SECRET_ACCESS_KEY go together"
            )
        account = env.get("TRAILGATE_MANAGEMENT_ACCOUNT_ID") or None
        if account is not None and not re.fullmatch(r"\d{12}", account):
            raise ConfigError("TRAILGATE_MANAGEMENT_ACCOUNT_ID must be 12 digits")
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
            raise ConfigError(f"not a region name: {region}")
        if delivery_interval <= 0 or digest_interval <= 0:
            raise ConfigError("intervals must be positive")
        return Settings(
            host=host,
            port=port,
            data_dir=Path(data_dir),
            region=region,
            delivery_interval=delivery_interval,
            digest_interval=digest_interval,
            root_access_key_id=key_id,
            root_secret_access_key=secret,
            management_account_id=account,
        )
