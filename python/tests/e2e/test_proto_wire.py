"""etcdlab's .proto files (proto/) are etcd 3.4's on the wire: every message, field (name,
number, type, label, message type), enum value, service and method (with its streaming) that
etcd 3.4's own binary registers is in ours, the same. The authority is /usr/bin/etcd itself: a
Go program carries each registered .proto as a gzipped FileDescriptorProto."""

import os
import pathlib
import zlib

import pytest

from etcdlab.local import find_binary

descriptor_pb2 = pytest.importorskip("google.protobuf.descriptor_pb2")

ETCD = "/usr/bin/etcd"
FILES = ["kv.proto", "auth.proto", "rpc.proto", "v3lock.proto", "v3election.proto"]


def etcd_descriptors():
    """The FileDescriptorProtos etcd's binary carries, by file name (the base name)."""
    data = pathlib.Path(ETCD).read_bytes()
    found = {}
    at = data.find(b"\x1f\x8b\x08\x00")
    while at >= 0:
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[at:at + (1 << 20)])
            fd = descriptor_pb2.FileDescriptorProto()
            fd.ParseFromString(raw)
            if fd.name and fd.package:
                found[os.path.basename(fd.name)] = fd
        except Exception:  # not a descriptor: gzip data of something else, or a false start
            pass
        at = data.find(b"\x1f\x8b\x08\x00", at + 4)
    return found


def our_descriptors():
    path = pathlib.Path(find_binary()).parent.parent / "proto" / "etcd.desc"
    if not path.exists():
        pytest.fail(f"{path} is missing: the build makes it (target etcdlab_proto_descriptors)")
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(path.read_bytes())
    return {f.name: f for f in fds.file}


def messages(fd):
    """Every message and enum of a file, nested ones included, by full name."""
    out = {}

    def walk(prefix, msg):
        name = f"{prefix}.{msg.name}"
        fields = {f.number: (f.name, f.type, f.label, f.type_name,
                             f.oneof_index if f.HasField("oneof_index") else None)
                  for f in msg.field}
        out[name] = ("message", fields)
        for e in msg.enum_type:
            out[f"{name}.{e.name}"] = ("enum", {v.number: v.name for v in e.value})
        for nested in msg.nested_type:
            walk(name, nested)

    for msg in fd.message_type:
        walk("." + fd.package, msg)
    for e in fd.enum_type:
        out[f".{fd.package}.{e.name}"] = ("enum", {v.number: v.name for v in e.value})
    return out


def services(fd):
    return {f"{fd.package}.{s.name}.{m.name}": (m.input_type, m.output_type,
                                                m.client_streaming, m.server_streaming)
            for s in fd.service for m in s.method}


@pytest.fixture(scope="module")
def both():
    if not os.path.exists(ETCD):
        pytest.skip("etcd 3.4 (etcd-server) is not installed")
    theirs = etcd_descriptors()
    missing = [f for f in FILES if f not in theirs]
    assert not missing, f"etcd's binary carries no descriptor for {missing}"
    return theirs, our_descriptors()


@pytest.mark.parametrize("name", FILES)
def test_every_message_and_field_of_etcd_is_ours_the_same(both, name):
    theirs, ours = both
    assert name in ours, f"proto/{name} is not in the descriptor set"
    assert ours[name].package == theirs[name].package
    want, got = messages(theirs[name]), messages(ours[name])
    problems = []
    for full, (kind, members) in want.items():
        if full not in got:
            problems.append(f"{kind} {full} is missing")
            continue
        for number, spec in members.items():
            if got[full][1].get(number) != spec:
                problems.append(f"{full} #{number}: etcd has {spec}, ours {got[full][1].get(number)}")
        for number in set(got[full][1]) - set(members):
            problems.append(f"{full} #{number} is ours only")
    for full in set(got) - set(want):
        problems.append(f"{full} is ours only")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", ["rpc.proto", "v3lock.proto", "v3election.proto"])
def test_every_service_and_method_of_etcd_is_ours_the_same(both, name):
    theirs, ours = both
    assert services(ours[name]) == services(theirs[name])
