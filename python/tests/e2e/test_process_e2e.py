"""The server as a process: one owner per data directory, a clean exit on SIGTERM, and data that
survives a restart (clean or SIGKILL) with the same flags."""

import subprocess

from etcdlab.local import LocalCluster


def test_a_second_process_on_the_same_data_dir_refuses_to_start():
    with LocalCluster(n=1) as c:
        c.wait_leader()
        args = c.args(0)
        # Same data dir, another client port (a flag given twice takes its last value, as
        # etcd's): it must refuse on the data dir before touching anything.
        second = subprocess.run(args + ["--listen-client-urls", "http://127.0.0.1:1",
                                        "--advertise-client-urls", "http://127.0.0.1:1"],
                                capture_output=True, text=True, timeout=30)
        assert second.returncode != 0
        assert "data dir" in (second.stdout + second.stderr).lower(), second.stderr
        client = c.client()
        client.put("still", "here")
        assert client.value("still") == b"here"


def test_sigterm_exits_cleanly_and_a_restart_keeps_the_data():
    with LocalCluster(n=1) as c:
        c.wait_leader()
        client = c.client()
        revs = [client.put(f"k{i}", str(i))["header"]["revision"] for i in range(20)]
        client.close()
        assert c.stop(0) == 0, f"SIGTERM must end the process cleanly; log {c.log_path(0)}"
        c.start_member(0)
        c.wait_leader()
        client = c.client()
        got = client.get("k", prefix=True)
        assert got["count"] == 20
        assert got["header"]["revision"] == revs[-1], "the revision survives the restart"
        client.close()


def test_sigkill_loses_nothing_acknowledged_on_a_single_member():
    with LocalCluster(n=1) as c:
        c.wait_leader()
        client = c.client()
        for i in range(50):
            client.put(f"a{i}", str(i))
        client.close()
        c.kill(0)
        c.start_member(0)
        c.wait_leader()
        client = c.client()
        assert client.get("a", prefix=True)["count"] == 50
        client.close()
