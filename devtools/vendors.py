"""What scripts/develop runs per vendor: the simulator's command line and the
config-flow form a user would type from the simulator's banner.
"""

from __future__ import annotations

from dataclasses import dataclass
import sys
from typing import Final

DEV_USERNAME: Final = "dev"
DEV_PASSWORD: Final = "dev-password"  # noqa: S105  (the documented local dev user)
DEV_NAME: Final = "Developer"
DEFAULT_CALL_NUMBER: Final = "+32 9 123 45 67"


@dataclass(frozen=True, kw_only=True)
class DevVendor:
    """One vendor's simulator and the answers to its config-flow form."""

    vendor: str
    port: int
    api_path: str = ""
    """Appended to the simulator's address for the URL field."""
    extra_form: tuple[tuple[str, str], ...] = ()
    secret_field: str = "password"  # noqa: S105  (a field name)
    cli_args: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    """Answers to the options flow once the entry exists."""
    call_number: str = DEFAULT_CALL_NUMBER
    """What the dashboard's click-to-call buttons dial (a number of the PBX's country)."""

    @property
    def secret(self) -> str:
        """The key, token or password the simulator is started with."""
        return f"sim-{self.vendor}-0123456789"

    def command(self, port: int | None = None) -> list[str]:
        """``python -m simulator ...`` for this vendor."""
        return [
            sys.executable,
            "-m",
            "simulator",
            self.vendor,
            "--port",
            str(self.port if port is None else port),
            "--api-key",
            self.secret,
            *self.cli_args,
        ]

    def form(self, simulator_url: str) -> dict[str, str | bool]:
        """The vendor step's input, as the simulator's banner tells a user."""
        values: dict[str, str | bool] = {
            "url": simulator_url.rstrip("/") + self.api_path,
            self.secret_field: self.secret,
        }
        values.update(self.extra_form)
        return values


DEV_VENDORS: Final[dict[str, DevVendor]] = {
    spec.vendor: spec
    for spec in (
        DevVendor(
            vendor="pbxware",
            port=8091,
            secret_field="api_key",  # noqa: S106
            cli_args=("--extensions", "8"),
        ),
        DevVendor(
            vendor="voipcloud",
            port=8092,
            secret_field="token",  # noqa: S106
            call_number="+61 2 9876 5432",
        ),
        DevVendor(
            vendor="voipcenter",
            port=8093,
            api_path="/api/",
            secret_field="api_key",  # noqa: S106
            extra_form=(
                ("api_id", "pi990000sim"),
                ("customer_number", "123456"),
                ("password", "sim-voipcenter-password"),
            ),
        ),
        DevVendor(
            vendor="tariscope",
            port=8094,
            extra_form=(("username", "api"),),
            # Follow one department's subscribers: their call accounting.
            options=(("departments", "1"),),
        ),
        DevVendor(
            vendor="tim4biz",
            port=8095,
            api_path="/api/",
            extra_form=(("username", "api.user@example.com"),),
        ),
    )
}


def main(argv: list[str]) -> int:
    """Print ``vendor port simulator-args...`` per vendor, for scripts/develop."""
    unknown = [vendor for vendor in argv if vendor not in DEV_VENDORS]
    if unknown:
        print(
            f"unknown vendor {', '.join(unknown)} (choose from {', '.join(DEV_VENDORS)})",
            file=sys.stderr,
        )
        return 2
    for vendor in argv:
        spec = DEV_VENDORS[vendor]
        print(vendor, spec.port, *spec.command()[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
