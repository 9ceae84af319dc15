#!/usr/bin/python3
"""Set-up steps of ci/ceph/cluster that talk to the cluster.

Run with /usr/bin/python3 (the rados/rbd bindings are Debian packages of the
system python).  Each step is one mon command or librados call from one
process: the `ceph`/`rbd` command-line tools cost about 5 s a call under
emulation, these a fraction of a second in all.

  setup.py keyring FILE                  write a cephx keyring: mon., client.admin, osd.0
  setup.py osd-new CONF UUID             create osd.0 in the osdmap
  setup.py osd-wait ASOK PID SECONDS     wait until the OSD says it is up
  setup.py rbd CONF POOL IMAGE BYTES     wait for osd.0 up+in, make an rbd pool and image

Exits 0 on success; otherwise prints why on stderr and exits 1.
"""
import base64
import json
import os
import socket
import struct
import sys
import time


def die(msg):
    print("ceph-setup: %s" % msg, file=sys.stderr)
    sys.exit(1)


def keyring(path):
    # A CryptoKey as `ceph-authtool --gen-key` encodes it: type 1 (AES),
    # creation time, length, secret.  Done here rather than with three
    # ceph-authtool runs, each of which loads all of libceph-common.
    def key():
        now = time.time()
        raw = struct.pack("<HIIH", 1, int(now), 0, 16) + os.urandom(16)
        return base64.b64encode(raw).decode()

    # The mon imports every key of this file at --mkfs, so osd.0 needs no
    # `auth add` later; clients and the OSD read the same file.
    entities = [
        ("mon.", {"mon": "allow *"}),
        ("client.admin", {"mon": "allow *", "osd": "allow *",
                          "mds": "allow *", "mgr": "allow *"}),
        ("osd.0", {"mon": "allow profile osd", "osd": "allow *",
                   "mgr": "allow profile osd"}),
    ]
    with open(path, "w") as f:
        os.fchmod(f.fileno(), 0o600)
        for name, caps in entities:
            f.write("[%s]\n\tkey = %s\n" % (name, key()))
            for svc, cap in caps.items():
                f.write('\tcaps %s = "%s"\n' % (svc, cap))


def connect(conf):
    # Imported only here: keyring and osd-wait need no librados, and loading
    # it takes a while under emulation.
    import rados
    # Bounded waits: a set-up step must fail, not hang, when the mon is gone.
    c = rados.Rados(conffile=conf, conf={"client_mount_timeout": "30",
                                         "rados_mon_op_timeout": "30"})
    c.connect(timeout=30)
    return c


def mon(c, **cmd):
    ret, out, err = c.mon_command(json.dumps(cmd), b"")
    if ret != 0:
        die("mon command %s failed: %s (%d)" % (cmd["prefix"], err, ret))
    return out


def osd_new(conf, uuid):
    c = connect(conf)
    out = json.loads(mon(c, prefix="osd new", uuid=uuid, id=0, format="json"))
    if out.get("osdid") != 0:
        die("osd new gave %r, expected osd 0" % out)
    c.shutdown()


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def asok(path, prefix):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendall(json.dumps({"prefix": prefix}).encode() + b"\0")
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise OSError("admin socket closed")
            data += chunk
        return json.loads(data[4:])
    finally:
        s.close()


def osd_wait(path, pid, seconds):
    # The OSD's own state, not the osdmap: after a SIGKILL the map still
    # shows the dead instance up (a lone OSD has no peer to report it), so
    # "up in the map" proves nothing.  The OSD turns "active" only once it
    # sees itself up at its current address.
    deadline = time.monotonic() + seconds
    state = "no admin socket"
    while time.monotonic() < deadline:
        if not alive(pid):
            die("the OSD (pid %d) exited while starting; last state: %s" % (pid, state))
        try:
            state = asok(path, "status").get("state", "?")
        except (OSError, ValueError) as e:
            state = "admin socket: %s" % e
        if state == "active":
            return
        time.sleep(0.05)
    die("the OSD did not come up within %d s; last state: %s" % (seconds, state))


def make_rbd(conf, pool, image, size):
    import rbd
    c = connect(conf)
    deadline = time.monotonic() + 60
    while True:
        osds = json.loads(mon(c, prefix="osd dump", format="json"))["osds"]
        if any(o["osd"] == 0 and o["up"] and o["in"] for o in osds):
            break
        if time.monotonic() > deadline:
            die("osd.0 is not up and in after 60 s: %r" % osds)
        time.sleep(0.05)
    c.create_pool(pool)
    io = c.open_ioctx(pool)
    # What `rbd pool init` does: tag the pool for rbd and switch it to
    # self-managed snapshots.
    rbd.RBD().pool_init(io, False)
    # Layering only.  krbd on 6.1 and 6.12 would map `rbd create`'s defaults
    # too, but exclusive-lock makes every writer (krbd, rbd-nbd, a checking
    # librbd client) take the lock in turn, and object-map adds an update
    # per first write to an object: both distort tests and benchmarks.
    try:
        rbd.RBD().create(io, image, size, old_format=False,
                         features=rbd.RBD_FEATURE_LAYERING)
    except rbd.ImageExists:
        die("image %s/%s exists already" % (pool, image))
    io.close()
    c.shutdown()


def main(argv):
    if len(argv) < 2:
        die("usage: see the top of %s" % argv[0])
    step, args = argv[1], argv[2:]
    try:
        if step == "keyring" and len(args) == 1:
            keyring(args[0])
        elif step == "osd-new" and len(args) == 2:
            osd_new(*args)
        elif step == "osd-wait" and len(args) == 3:
            osd_wait(args[0], int(args[1]), float(args[2]))
        elif step == "rbd" and len(args) == 4:
            make_rbd(args[0], args[1], args[2], int(args[3]))
        else:
            die("bad arguments: %s" % " ".join(argv[1:]))
    except Exception as e:  # librados errors carry their errno in the text
        die("%s: %s: %s" % (step, type(e).__name__, e))


if __name__ == "__main__":
    main(sys.argv)
