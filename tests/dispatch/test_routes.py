"""Action paths to controller methods: the naming rule and start-up resolution errors."""

from __future__ import annotations

import pytest

from thinkio import App, ConfigError, Controller
from thinkio.dispatch import action_method, controllers_from, resolve_routes
from thinkio.settings import config_from_dict


@pytest.mark.parametrize(
    ("action", "method"),
    [
        ("open", "open_action"),
        ("close", "close_action"),
        ("addUser", "add_user_action"),
        ("add_user", "add_user_action"),
        ("AddUser", "add_user_action"),
        ("getHTTPStatus", "get_http_status_action"),
        ("user2Name", "user2_name_action"),
        ("ABC", "abc_action"),
        ("sendMessage2", "send_message2_action"),
    ],
)
def test_action_method_is_snake_case_plus_action(action: str, method: str) -> None:
    assert action_method(action) == method


class Websocket(Controller):
    def open_action(self) -> None: ...

    async def add_user_action(self) -> None: ...


class AdminUser(Controller):
    def list_action(self) -> None: ...


def resolve(messages: object, controllers: dict[str, type[Controller]]) -> list[tuple[str, ...]]:
    config = config_from_dict({"messages": messages})
    routes = resolve_routes(config.socketio.messages, controllers_from(controllers))
    return [
        (r.namespace, r.event, r.controller_name, r.controller.__name__, r.method) for r in routes
    ]


def test_routes_resolve_to_controller_methods() -> None:
    assert resolve(
        [
            {"open": "/websocket/open", "addUser": "websocket/addUser"},
            {"namespace": "/admin", "list": "/admin/user/list"},
        ],
        {"websocket": Websocket, "admin/user": AdminUser},
    ) == [
        ("/", "open", "websocket", "Websocket", "open_action"),
        ("/", "addUser", "websocket", "Websocket", "add_user_action"),
        ("/admin", "list", "admin/user", "AdminUser", "list_action"),
    ]


@pytest.mark.parametrize(
    ("messages", "controllers", "expected"),
    [
        (
            {"addUser": "/chat/addUser"},
            {"websocket": Websocket},
            "messages.addUser: '/chat/addUser': controller 'chat' not found: no controller 'chat'",
        ),
        (
            {"removeUser": "/websocket/removeUser"},
            {"websocket": Websocket},
            "messages.removeUser: '/websocket/removeUser': controller 'websocket' (Websocket) "
            "has no method remove_user_action() for the action 'removeUser'",
        ),
        (
            [{"namespace": "/admin", "close": "/admin/user/close"}],
            {"admin/user": AdminUser},
            "messages[0].close: '/admin/user/close': controller 'admin/user' (AdminUser) has no "
            "method close_action()",
        ),
    ],
)
def test_a_missing_controller_or_action_names_the_route(
    messages: object, controllers: dict[str, type[Controller]], expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(messages, controllers)
    assert expected in str(info.value)


def test_app_resolves_every_route_when_it_is_built() -> None:
    with pytest.raises(ConfigError, match=r"messages\.close: '/websocket/close'.*close_action"):
        App(
            messages={"open": "/websocket/open", "close": "/websocket/close"},
            controllers={"websocket": Websocket},
        )


def test_controllers_must_be_controller_classes() -> None:
    with pytest.raises(
        ConfigError, match=r"controllers\['websocket'\]: expected a thinkio.Controller"
    ):
        App(messages={}, controllers={"websocket": object})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="is not a controller name"):
        App(messages={}, controllers={"/websocket": Websocket})


def test_a_non_method_attribute_is_not_an_action() -> None:
    class Odd(Controller):
        ping_action = "not callable"

    with pytest.raises(ConfigError, match=r"has no method ping_action\(\)"):
        App(messages={"ping": "/odd/ping"}, controllers={"odd": Odd})
