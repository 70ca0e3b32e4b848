"""A real Slurm on localhost for tests: munge + slurmctld + two slurmd in a scratch folder.

The two slurmd are two nodes of one cluster on this machine (`slurmd -N NAME`, each on its
own port and spool), named by this host's name and `localhost`: both names resolve here, so a
two-node `srun torchrun` finds its rendezvous host by node name as on a real cluster.

Needs root and Debian's slurm-wlm and munge (`.ci/run` installs them). Every Slurm file
(config, state, spool, logs, pids) lives under the scratch folder, so a test session starts
from nothing and `stop()` leaves nothing running. Client commands find the config through
SLURM_CONF, which `start()` exports into this process's environment (jobs inherit it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

MUNGE_KEY = Path("/etc/munge/munge.key")


def why_unavailable() -> str | None:
    """None if a local Slurm can be started here, else the reason."""
    if os.geteuid() != 0:
        return "starting slurmctld/slurmd/munged needs root"
    for tool in ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "srun"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt-get install slurm-wlm munge)"
    return None


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=60)


def _ensure_munge() -> None:
    if _run("sh", "-c", "munge -n | unmunge", check=False).returncode == 0:
        return
    for folder in ("/etc/munge", "/run/munge", "/var/log/munge", "/var/lib/munge"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "munge", "munge")
    if not MUNGE_KEY.exists():
        MUNGE_KEY.write_bytes(os.urandom(1024))
    shutil.chown(MUNGE_KEY, "munge", "munge")
    MUNGE_KEY.chmod(0o400)
    _run("runuser", "-u", "munge", "--", "munged")
    deadline = time.monotonic() + 20
    while _run("sh", "-c", "munge -n | unmunge", check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError("munged did not come up")
        time.sleep(0.2)


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 4096


class LocalSlurm:
    def __init__(self, scratch: Path) -> None:
        self.scratch = Path(scratch)
        self.host = socket.gethostname().split(".")[0]
        self.nodes = [self.host] if self.host == "localhost" else [self.host, "localhost"]
        self.conf = self.scratch / "slurm.conf"

    def write_config(self) -> None:
        s = self.scratch
        for sub in ("state", "spool", "log"):
            (s / sub).mkdir(parents=True, exist_ok=True)
        cpus = os.cpu_count() or 1
        lines = {
            "ClusterName": "oellm-local",
            "SlurmctldHost": self.host,
            "SlurmUser": "root",
            "SlurmdUser": "root",
            "AuthType": "auth/munge",
            # Slurm holds a requeued job for cred_expire + 1 s (120 s by default) so that the
            # node has dropped the old run's revoked credential before the job starts again
            # (starting earlier fails with "Job credential revoked"). A short wait for tests.
            "AuthInfo": "cred_expire=10",
            "StateSaveLocation": s / "state",
            # %n: the node name, so the two slurmd on this machine keep apart.
            "SlurmdSpoolDir": s / "spool-%n",
            "SlurmctldPidFile": s / "slurmctld.pid",
            "SlurmdPidFile": s / "slurmd-%n.pid",
            "SlurmctldLogFile": s / "log" / "slurmctld.log",
            "SlurmdLogFile": s / "log" / "slurmd-%n.log",
            "ProctrackType": "proctrack/linuxproc",
            "TaskPlugin": "task/none",
            "JobAcctGatherType": "jobacct_gather/none",
            "SchedulerType": "sched/backfill",
            "SelectType": "select/cons_tres",
            "SelectTypeParameters": "CR_Core",
            "ReturnToService": 2,
            "MaxArraySize": 10001,
            "MinJobAge": 30,
            "SchedulerParameters": "sched_interval=1,bf_interval=1",
            "JobCompType": "jobcomp/filetxt",
            "JobCompLoc": s / "log" / "jobcomp.txt",
        }
        text = "".join(f"{k}={v}\n" for k, v in lines.items())
        mem = int(_memory_mb() * 0.8)
        for port, node in enumerate(self.nodes, start=6818):
            text += (
                f"NodeName={node} NodeHostname={self.host} NodeAddr=127.0.0.1 Port={port} "
                f"CPUs={cpus} RealMemory={mem} State=UNKNOWN\n"
            )
        nodes = ",".join(self.nodes)
        text += f"PartitionName=debug Nodes={nodes} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES\n"
        self.conf.write_text(text)

    def start(self, timeout: float = 60.0) -> None:
        _ensure_munge()
        self.write_config()
        os.environ["SLURM_CONF"] = str(self.conf)
        _run("slurmctld", "-f", str(self.conf))
        for node in self.nodes:
            _run("slurmd", "-f", str(self.conf), "-N", node)
        deadline = time.monotonic() + timeout
        while True:
            state = _run("sinfo", "-h", "-N", "-o", "%T", check=False).stdout.split()
            if len(state) == len(self.nodes) and all(s in ("idle", "mixed") for s in state):
                return
            if time.monotonic() > deadline:
                log = (self.scratch / "log" / "slurmctld.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"slurm node not idle after {timeout}s (state {state!r}); slurmctld log:\n{log}"
                )
            time.sleep(0.5)

    def stop(self) -> None:
        for name in (*(f"slurmd-{node}.pid" for node in self.nodes), "slurmctld.pid"):
            pid_file = self.scratch / name
            if not pid_file.exists():
                continue
            try:
                pid = int(pid_file.read_text().strip())
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.1)
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
