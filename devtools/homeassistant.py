"""A small client for what a new user does in Home Assistant, over its REST and
websocket APIs: onboarding, logging in, config flows and saving a dashboard.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import itertools
from typing import Any, Self

import aiohttp

type Json = dict[str, Any]

ONBOARDING_STEPS = ("user", "core_config", "analytics", "integration")


class BootstrapError(Exception):
    """Home Assistant refused a step; the message says which and why."""


class HomeAssistantApi:
    """One logged-in user of one Home Assistant, as the frontend would be."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        """Not logged in yet: call :meth:`onboard_or_login` first."""
        self._session = session
        self.base_url = base_url.rstrip("/")
        self.client_id = f"{self.base_url}/"
        self.access_token = ""
        self.refresh_token = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()

    # ------------------------------------------------------------ start-up

    async def wait_until_up(self, alive: Callable[[], bool] = lambda: True) -> None:
        """Wait until the HTTP API answers (bounded by the caller's
        ``asyncio.timeout``: a first start installs packages), or until
        ``alive`` says Home Assistant's process has ended.
        """
        while True:
            if not alive():
                msg = "Home Assistant exited before it answered: see its log"
                raise BootstrapError(msg)
            try:
                # The HTTP server starts once the configuration is set up: any
                # answer will do (this one is 400 until onboarding made a user).
                async with self._session.get(f"{self.base_url}/auth/providers") as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)

    async def onboard_or_login(self, username: str, password: str, name: str) -> bool:
        """Finish onboarding with this user, or log in as them when it is done.

        Returns whether onboarding ran now.
        """
        async with self._session.get(f"{self.base_url}/api/onboarding") as resp:
            # Once onboarding is done, its views are not even registered.
            steps = (
                {step["step"]: step["done"] for step in await resp.json()}
                if resp.status == 200
                else dict.fromkeys(ONBOARDING_STEPS, True)
            )
        if steps.get("user"):
            await self.login(username, password)
        else:
            code = (
                await self.post(
                    "/api/onboarding/users",
                    {
                        "client_id": self.client_id,
                        "name": name,
                        "username": username,
                        "password": password,
                        "language": "en",
                    },
                    auth=False,
                )
            )["auth_code"]
            await self._token({"grant_type": "authorization_code", "code": code})
        for step in ONBOARDING_STEPS[1:]:
            if steps.get(step):
                continue

            body: Json = {}
            if step == "integration":
                body = {"client_id": self.client_id, "redirect_uri": self.client_id}
            await self.post(f"/api/onboarding/{step}", body)
        return not steps.get("user")

    async def login(self, username: str, password: str) -> None:
        """Log in through the login flow the frontend's login page uses."""
        flow = await self.post(
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.client_id,
            },
            auth=False,
        )
        result = await self.post(
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": username, "password": password},
            auth=False,
        )
        if result.get("type") != "create_entry":
            msg = f"login as {username!r} refused: {result.get('errors')}"
            raise BootstrapError(msg)
        await self._token(
            {"grant_type": "authorization_code", "code": result["result"]}
        )

    async def _token(self, data: Mapping[str, str]) -> None:
        async with self._session.post(
            f"{self.base_url}/auth/token", data={**data, "client_id": self.client_id}
        ) as resp:
            body = await resp.json()
            if resp.status != 200:
                msg = f"token refused: {body}"
                raise BootstrapError(msg)
        self.access_token = body["access_token"]
        self.refresh_token = body.get("refresh_token", self.refresh_token)

    # ---------------------------------------------------------------- REST

    async def _request(
        self, method: str, path: str, body: Json | None = None, *, auth: bool = True
    ) -> Any:
        """One REST request; its JSON answer (``None`` for an empty one).
        An HTTP error status is a :class:`BootstrapError` naming the request.
        """
        headers = {"Authorization": f"Bearer {self.access_token}"} if auth else {}
        async with self._session.request(
            method, f"{self.base_url}{path}", json=body, headers=headers
        ) as resp:
            if resp.status >= 400:
                msg = f"{method} {path}: HTTP {resp.status} {await resp.text()}"
                raise BootstrapError(msg)
            return await resp.json() if resp.content_length != 0 else None

    async def post(self, path: str, body: Json, *, auth: bool = True) -> Json:
        """POST ``body`` to a REST path; its JSON answer."""
        result: Json = await self._request("POST", path, body, auth=auth)
        return result

    async def delete(self, path: str) -> None:
        """DELETE a REST path as the logged-in user."""
        await self._request("DELETE", path)

    async def call_service(
        self, domain: str, service: str, data: Json, *, response: bool = False
    ) -> tuple[int, str]:
        """Call an action as the UI does; its HTTP status and body, whatever
        they are (a refused call is an answer here, not an error).
        """
        query = "?return_response" if response else ""
        async with self._session.post(
            f"{self.base_url}/api/services/{domain}/{service}{query}",
            json=data,
            headers={"Authorization": f"Bearer {self.access_token}"},
        ) as resp:
            return resp.status, await resp.text()

    async def get(self, path: str) -> Any:
        """GET a REST path as the logged-in user."""
        return await self._request("GET", path)

    async def add_entry(self, handler: str, menu_option: str, form: Json) -> Json:
        """Run ``handler``'s config flow as a user would: open it, pick
        ``menu_option`` in its menu, submit ``form``. Returns the last result
        (``create_entry``, or ``abort`` with reason ``already_configured``).
        """
        result = await self.post(
            "/api/config/config_entries/flow",
            {"handler": handler, "show_advanced_options": False},
        )
        flow_path = f"/api/config/config_entries/flow/{result['flow_id']}"
        if result["type"] == "menu":
            result = await self.post(flow_path, {"next_step_id": menu_option})
        if result["type"] == "form":
            result = await self.post(flow_path, form)
        if result["type"] == "form":
            msg = f"{handler} {menu_option}: the form came back with {result.get('errors')}"
            raise BootstrapError(msg)
        return result

    async def set_options(self, entry_id: str, answers: Json) -> Json:
        """Run the entry's options flow, as its Configure button does."""
        result = await self.post(
            "/api/config/config_entries/options/flow", {"handler": entry_id}
        )
        flow_path = f"/api/config/config_entries/options/flow/{result['flow_id']}"
        result = await self.post(flow_path, answers)
        if result["type"] != "create_entry":
            msg = f"options of {entry_id}: {result.get('errors') or result}"
            raise BootstrapError(msg)
        return result

    async def entries(self, domain: str) -> list[Json]:
        """The config entries of ``domain``."""
        found: list[Json] = await self.get(
            f"/api/config/config_entries/entry?domain={domain}"
        )
        return found

    # ----------------------------------------------------------- websocket

    async def ws(self, message_type: str, **fields: Any) -> Any:
        """Send one websocket command and return its result."""
        if self._ws is None:
            self._ws = await self._session.ws_connect(f"{self.base_url}/api/websocket")
            await self._ws.receive_json()  # auth_required
            await self._ws.send_json(
                {"type": "auth", "access_token": self.access_token}
            )
            reply = await self._ws.receive_json()
            if reply["type"] != "auth_ok":
                msg = f"websocket auth refused: {reply}"
                raise BootstrapError(msg)
        message_id = next(self._ids)
        await self._ws.send_json({"id": message_id, "type": message_type, **fields})
        while True:
            reply = await self._ws.receive_json()
            if reply.get("id") == message_id and reply["type"] == "result":
                break
        if not reply["success"]:
            msg = f"{message_type}: {reply['error']}"
            raise BootstrapError(msg)
        return reply["result"]
