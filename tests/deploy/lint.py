#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Lints the deployment files without a container engine or a Kubernetes
cluster (CI has neither): docker/compose.yaml and docker/k8s/*.yaml parse,
describe the cluster of the design (origin, master, 3 workers with a volume
each, 2 gateways; a gateway Deployment behind a Service, a worker
StatefulSet with a volume per pod, the master with its own volume), probe
readiness on /readyz and liveness on /healthz (compose: /healthz) on the
port the role's --admin-listen (or the master's --listen) names, and pass
Cachalot only flags that `cachalot ROLE --help` lists. The Dockerfile's
COPY sources exist and its build stage installs every -dev package that
scripts/install-deps installs for the build.
Not exercised here: building the image, running compose, applying the
manifests (no docker or kubectl on CI machines).
"""
import glob
import os
import re
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "rig"))
from rig import Checks  # noqa: E402

BIN = os.environ.get("CACHALOT_BIN") or os.path.join(TOP, "cachalot")
_help = {}


def flags_of(role):
    if role not in _help:
        out = subprocess.run([BIN, role, "--help"], capture_output=True, text=True).stdout
        _help[role] = set(re.findall(r"^\s+--([a-z0-9-]+)", out, re.M))
    return _help[role]


def check_args(ck, where, args):
    role = args[0]
    ck.check(role in ("master", "worker", "gateway", "serve"), f"{where}: role {role}")
    bad = [a for a in args[1:] if a.startswith("--") and a[2:].split("=")[0] not in flags_of(role)]
    ck.check(not bad, f"{where}: flags cachalot {role} knows: unknown {bad}")
    return {a[2:].split("=")[0]: a.split("=", 1)[1] for a in args[1:] if "=" in a}


def port_of(hostport):
    return int(hostport.rsplit(":", 1)[1])


def main():
    ck = Checks("deploy-lint")
    # compose
    with open(os.path.join(TOP, "docker", "compose.yaml")) as f:
        comp = yaml.safe_load(f)
    svcs = comp["services"]
    roles = {}
    for name, s in svcs.items():
        if name == "origin":
            continue
        flags = check_args(ck, f"compose {name}", s["command"])
        roles.setdefault(s["command"][0], []).append(name)
        admin = port_of(flags.get("admin-listen", flags.get("listen", "x:0"))) \
            if s["command"][0] != "master" else port_of(flags["listen"])
        hc = " ".join(s.get("healthcheck", {}).get("test", []))
        ck.check(f":{admin}/healthz" in hc, f"compose {name}: healthcheck on :{admin}/healthz ({hc})")
        if s["command"][0] in ("worker", "master"):
            ck.check(any(v.endswith(":/var/lib/cachalot") for v in s.get("volumes", [])),
                     f"compose {name}: a volume for its data-dir")
    ck.check("origin" in svcs, "compose: a demo origin")
    ck.check(len(roles.get("master", [])) == 1 and len(roles.get("worker", [])) == 3 and
             len(roles.get("gateway", [])) == 2, f"compose: 1 master, 3 workers, 2 gateways: {roles}")
    # Kubernetes
    docs = []
    for p in sorted(glob.glob(os.path.join(TOP, "docker", "k8s", "*.yaml"))):
        with open(p) as f:
            docs += [d for d in yaml.safe_load_all(f) if d]
    kinds = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    gw = kinds.get(("Deployment", "cachalot-gateway"))
    wk = kinds.get(("StatefulSet", "cachalot-worker"))
    ms = kinds.get(("StatefulSet", "cachalot-master"))
    ck.check(gw is not None and ("Service", "cachalot") in kinds, "k8s: gateways behind a Service")
    ck.check(wk is not None and wk["spec"].get("volumeClaimTemplates"),
             "k8s: workers as a StatefulSet with a volume each")
    ck.check(ms is not None and ms["spec"].get("volumeClaimTemplates"), "k8s: the master with its volume")
    ck.check(("ConfigMap", "cachalot-config") in kinds, "k8s: one config file for every role")
    for d in (gw, wk, ms):
        if d is None:
            continue
        for c in d["spec"]["template"]["spec"]["containers"]:
            flags = check_args(ck, f"k8s {d['metadata']['name']}", c["args"])
            role = c["args"][0]
            port = port_of(flags["listen"]) if role == "master" else 9001
            # Readiness (origin, master, disk reachable) and liveness
            # (the process answers) are different questions.
            for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                g = c.get(probe, {}).get("httpGet", {})
                ck.check(g.get("path") == path and g.get("port") == port,
                         f"k8s {d['metadata']['name']}: {probe} on :{port}{path}")
            ports = {p["containerPort"] for p in c.get("ports", [])}
            ck.check(port_of(flags["listen"]) in ports, f"k8s {d['metadata']['name']}: listen port exposed")
    conf = kinds[("ConfigMap", "cachalot-config")]["data"]["cachalot.conf"]
    keys = [l.split("=")[0].strip() for l in conf.splitlines() if "=" in l and not l.startswith("#")]
    allflags = set().union(*(flags_of(r) for r in ("master", "worker", "gateway")))
    ck.check(all(k in allflags for k in keys), f"k8s ConfigMap: known keys {keys}")
    # Dockerfile
    with open(os.path.join(TOP, "docker", "Dockerfile")) as f:
        df = f.read()
    for src in re.findall(r"^COPY (?!--from)(\S+)", df, re.M):
        ck.check(src == "." or os.path.exists(os.path.join(TOP, src)), f"Dockerfile: COPY {src} exists")
    with open(os.path.join(TOP, "scripts", "install-deps")) as f:
        deps = f.read()
    build = re.search(r"build_pkgs=\(([^)]*)\)", deps).group(1).split()
    for pkg in [p for p in build if p.endswith("-dev")]:
        ck.check(pkg in df, f"Dockerfile build stage installs {pkg}")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main())
