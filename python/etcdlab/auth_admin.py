"""etcd's auth administration through the v3 JSON gateway (/v3/auth/*), as methods of
etcdlab.Client (which signs in and sends the token: see client.py). Refusals raise EtcdError
with etcd's text, gRPC code and HTTP status ("etcdserver: permission denied", 7, 403)."""

from __future__ import annotations

import base64
from typing import Any

_PERM_TYPES = ("READ", "WRITE", "READWRITE")


def _bytes(x) -> bytes:
    return x.encode() if isinstance(x, str) else bytes(x)


def prefix_end(prefix) -> bytes:
    from .client import prefix_end as end
    return end(prefix)


class AuthAdmin:
    """Mixed into Client: each method is one request through Client.call."""

    def auth_enable(self) -> dict:
        """Refused without a user root holding the role root ("etcdserver: root user does not
        exist" / "... does not have root role")."""
        return self.call("/v3/auth/enable", {})

    def auth_disable(self) -> dict:
        return self.call("/v3/auth/disable", {})

    def user_add(self, name: str, password: str = "", *, no_password: bool = False) -> dict:
        body: dict[str, Any] = {"name": name, "password": password}
        if no_password:
            body["options"] = {"no_password": True}
        return self.call("/v3/auth/user/add", body)

    def user_get(self, name: str) -> list:
        """The user's roles, sorted."""
        return self.call("/v3/auth/user/get", {"name": name}).get("roles", [])

    def user_list(self) -> list:
        return self.call("/v3/auth/user/list", {}).get("users", [])

    def user_delete(self, name: str) -> dict:
        return self.call("/v3/auth/user/delete", {"name": name})

    def user_change_password(self, name: str, password: str) -> dict:
        return self.call("/v3/auth/user/changepw", {"name": name, "password": password})

    def user_grant_role(self, user: str, role: str) -> dict:
        return self.call("/v3/auth/user/grant", {"user": user, "role": role})

    def user_revoke_role(self, user: str, role: str) -> dict:
        return self.call("/v3/auth/user/revoke", {"name": user, "role": role})

    def role_add(self, name: str) -> dict:
        return self.call("/v3/auth/role/add", {"name": name})

    def role_get(self, name: str) -> list:
        """The role's permissions: [{"permType": "READ"|"WRITE"|"READWRITE", "key": bytes,
        "range_end": bytes (b"" one key, b"\\0" every key from `key` on)}, ...]."""
        perms = self.call("/v3/auth/role/get", {"role": name}).get("perm", [])
        return [{"permType": p.get("permType", "READ"), "key": p.get("key", b""),
                 "range_end": p.get("range_end", b"")} for p in perms]

    def role_list(self) -> list:
        return self.call("/v3/auth/role/list", {}).get("roles", [])

    def role_delete(self, name: str) -> dict:
        return self.call("/v3/auth/role/delete", {"role": name})

    @staticmethod
    def _perm_range(key, range_end, prefix: bool) -> dict:
        if prefix and range_end is not None:
            raise ValueError("a prefix permission has no range_end")
        end = prefix_end(key) if prefix else _bytes(range_end) if range_end is not None else b""
        body = {"key": base64.b64encode(_bytes(key)).decode()}
        if end:
            body["range_end"] = base64.b64encode(end).decode()
        return body

    def role_grant_permission(self, name: str, perm_type: str, key, range_end=None, *,
                              prefix: bool = False) -> dict:
        """Grants READ, WRITE or READWRITE on `key`, [key, range_end) or (`prefix`) every key
        starting with `key`; range_end b"\\0" is every key from `key` on."""
        if perm_type not in _PERM_TYPES:
            raise ValueError(f"perm_type is one of {_PERM_TYPES}, not {perm_type!r}")
        perm = dict(self._perm_range(key, range_end, prefix), permType=perm_type)
        return self.call("/v3/auth/role/grant", {"name": name, "perm": perm})

    def role_revoke_permission(self, name: str, key, range_end=None, *,
                               prefix: bool = False) -> dict:
        body = dict(self._perm_range(key, range_end, prefix), role=name)
        return self.call("/v3/auth/role/revoke", body)

