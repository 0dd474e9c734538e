#!/usr/bin/python3
"""One D-Bus method call, for tests that call as another user (setpriv):
buscall.py ADDRESS DEST PATH IFACE METHOD SIGNATURE JSON_ARGS [stay]
prints ["ok", result] or ["error", name, message] as JSON. With "stay" it
keeps its connection until its standard input closes: a peer that stays,
as an agent does."""

import json
import sys

import dbus


def plain(v):
    if isinstance(v, (dbus.Array, dbus.Struct, list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (dbus.Dictionary, dict)):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.String, dbus.ObjectPath)):
        return str(v)
    if isinstance(v, int):
        return int(v)
    return v


def main():
    address, dest, path, iface, method, signature, args = sys.argv[1:8]
    conn = dbus.bus.BusConnection(address)
    try:
        obj = conn.get_object(dest, path, introspect=False)
        result = obj.get_dbus_method(method, iface)(
            *json.loads(args), signature=signature or None, timeout=10)
        print(json.dumps(["ok", plain(result)]), flush=True)
    except dbus.exceptions.DBusException as e:
        print(json.dumps(["error", e.get_dbus_name(), e.get_dbus_message()]),
              flush=True)
    if sys.argv[8:9] == ["stay"]:
        sys.stdin.read()


if __name__ == "__main__":
    main()
