"""How each course image is built: small, reproducible look-alikes of real images.

Every recipe below builds its image from scratch with imgkit's deterministic
builder, so the lab holds byte-for-byte the same images on every machine.
They are *course copies*: they have the layer structure, metadata and file
layout of the real images the chapter names (alpine, busybox, redis, python,
ubuntu, mongo, hello-world), at a fraction of their size, and nothing in them
is meant to be run except ``/hello``.

Recipes take a ``revision``: revision 1 is what the lab is seeded with; a
higher revision is a "new build" of the same tag, which the lab can publish
to show how a re-pull leaves the old image dangling.
"""

from __future__ import annotations

from functools import lru_cache

from ..build import ImageBuilder, build_index
from ..tarlayer import Entry
from . import content
from .elf import hello_program

# Short names for the entry kinds, so recipes read like file listings.
file, directory, symlink, hardlink, whiteout = (
    Entry.file, Entry.directory, Entry.symlink, Entry.hardlink, Entry.whiteout)

__all__ = ["alpine", "busybox", "redis", "python", "ubuntu_noble", "ubuntu_jammy",
           "mongo", "hello_world", "ARCHES"]

#: The platforms of the multi-platform course images: (architecture, variant, apk arch, GNU triplet).
ARCHES = {
    "amd64": ("amd64", None, "x86_64", "x86_64-linux-gnu"),
    "arm64": ("arm64", "v8", "aarch64", "aarch64-linux-gnu"),
}

_DIRS_FHS = ["bin", "dev", "etc", "home", "lib", "media", "mnt", "opt", "proc", "run",
             "sbin", "srv", "sys", "usr", "usr/bin", "usr/lib", "usr/local",
             "usr/local/bin", "usr/local/lib", "usr/local/share", "usr/sbin", "usr/share",
             "var", "var/cache", "var/empty", "var/lib", "var/local", "var/log",
             "var/opt", "var/spool", "var/tmp"]


def _labels(title: str, version: str, created: str, description: str) -> dict[str, str]:
    """Return the OCI labels every course image carries, saying it is a course copy."""
    return {
        "org.opencontainers.image.title": title,
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.description":
            f"imgkit course copy of {title}: {description} - small and reproducible, "
            "not the real image",
        "org.opencontainers.image.vendor": "imgkit course images",
        "org.opencontainers.image.licenses": "Apache-2.0",
    }


def _builder(arch: str, created: str, base=None) -> ImageBuilder:
    architecture, variant, _, _ = ARCHES[arch]
    return ImageBuilder(platform=("linux", architecture, variant), base=base, created=created)


# --- alpine ---------------------------------------------------------------

_ALPINE = {  # version -> (release, created date of revision 1)
    "3.19": ("3.19.1", "2024-01-27T00:00:00Z"),
    "3.20": ("3.20.0", "2024-05-22T18:18:12Z"),
}
_BUSYBOX_APPLETS = ["cat", "chmod", "cp", "date", "df", "du", "echo", "grep", "hostname",
                    "ls", "mkdir", "mount", "mv", "ping", "ps", "rm", "sed", "sh", "sleep",
                    "tar", "touch", "vi"]


def _alpine_rootfs(release: str, arch: str, revision: int) -> list:
    _, _, apk_arch, _ = ARCHES[arch]
    seed = f"alpine-{release}-{arch}-r{revision}"
    packages = [("alpine-baselayout", "3.6.5-r0", 8_192), ("busybox", "1.36.1-r29", 820_000),
                ("musl", "1.2.5-r0", 650_000), ("libcrypto3", "3.3.0-r2", 1_150_000),
                ("libssl3", "3.3.0-r2", 300_000), ("zlib", "1.3.1-r1", 100_000),
                ("apk-tools", "2.14.4-r0", 270_000), ("ca-certificates-bundle", "20240226-r0", 210_000)]
    entries = [directory(d) for d in _DIRS_FHS]
    entries += [directory("root", mode=0o700), directory("tmp", mode=0o1777),
                directory("etc/apk"), directory("lib/apk"), directory("lib/apk/db"),
                directory("etc/ssl"), directory("etc/ssl/certs"), directory("usr/share/apk"),
                directory("usr/share/apk/keys")]
    entries += [
        file("bin/busybox", content.binary(seed + "/busybox", 820_000), mode=0o755),
        *[symlink(f"bin/{a}", "/bin/busybox") for a in _BUSYBOX_APPLETS],
        file("etc/alpine-release", f"{release}\n".encode()),
        file("etc/os-release", content.os_release(
            "Alpine Linux", "alpine", release, f"Alpine Linux v{release.rsplit('.', 1)[0]}")),
        file("etc/hostname", b"localhost\n"),
        file("etc/passwd", content.passwd()),
        file("etc/group", content.group()),
        file("etc/shadow", b"root:*::0:::::\nnobody:!::0:::::\n", mode=0o640),
        file("etc/shells", b"# valid login shells\n/bin/sh\n/bin/ash\n"),
        file("etc/profile", content.text_lines(seed + "/profile", 40)),
        file("etc/motd", b"Welcome to Alpine (imgkit course copy)!\n"),
        file("etc/apk/arch", f"{apk_arch}\n".encode()),
        file("etc/apk/world", b"alpine-baselayout\napk-tools\nbusybox\nca-certificates-bundle\n"),
        file("etc/apk/repositories", b"https://dl-cdn.alpinelinux.org/alpine/v"
             + release.rsplit(".", 1)[0].encode() + b"/main\n"),
        file("etc/ssl/certs/ca-certificates.crt", content.text_lines(seed + "/ca", 2_600)),
        file(f"lib/ld-musl-{apk_arch}.so.1", content.binary(seed + "/musl", 650_000), mode=0o755),
        symlink(f"lib/libc.musl-{apk_arch}.so.1", f"ld-musl-{apk_arch}.so.1"),
        file("lib/libcrypto.so.3", content.binary(seed + "/crypto", 1_150_000), mode=0o755),
        file("lib/libssl.so.3", content.binary(seed + "/ssl", 300_000), mode=0o755),
        file("lib/libz.so.1.3.1", content.binary(seed + "/z", 100_000), mode=0o755),
        symlink("lib/libz.so.1", "libz.so.1.3.1"),
        file("lib/apk/db/installed", content.package_db(packages, apk_arch)),
        file("sbin/apk", content.binary(seed + "/apk", 70_000), mode=0o755),
        file("usr/lib/libapk.so.2.14.0", content.binary(seed + "/libapk", 200_000), mode=0o755),
        file("usr/share/apk/keys/alpine-devel.rsa.pub", content.text_lines(seed + "/key", 9)),
    ]
    return entries


@lru_cache(maxsize=None)
def alpine_image(version: str, arch: str = "amd64", revision: int = 1):
    """Build ``alpine:<version>`` for one platform: one layer, then ``CMD ["/bin/sh"]``."""
    release, created = _ALPINE[version]
    if revision > 1:
        # A new build: a patch release of the same version, published later.
        major, minor, patch = release.split(".")
        release = f"{major}.{minor}.{int(patch) + revision - 1}"
        created = f"2024-0{5 + revision}-18T09:00:00Z"
    _, _, apk_arch, _ = ARCHES[arch]
    builder = _builder(arch, created)
    builder.add_layer(_alpine_rootfs(release, arch, revision),
                      created_by=f"ADD alpine-minirootfs-{release}-{apk_arch}.tar.gz / # buildkit")
    builder.labels(_labels("alpine", release, created,
                           "a minimal Linux distribution built around musl and busybox"))
    builder.cmd(["/bin/sh"])
    return builder.build()


def alpine(version: str, revision: int = 1, arches: tuple[str, ...] | None = None):
    """Build ``alpine:<version>``; 3.20 is a multi-platform index (amd64 and arm64/v8)."""
    arches = arches or (("amd64", "arm64") if version == "3.20" else ("amd64",))
    if len(arches) == 1:
        return alpine_image(version, arches[0], revision)
    return build_index([alpine_image(version, a, revision) for a in arches])


# --- busybox --------------------------------------------------------------

def busybox(variant: str = "latest", revision: int = 1):
    """Build ``busybox:latest`` (static) or ``busybox:glibc`` (with its C library)."""
    created = "2024-05-17T21:00:00Z" if variant == "latest" else "2024-05-17T21:05:00Z"
    seed = f"busybox-{variant}-r{revision}"
    entries = [directory(d) for d in ("bin", "dev", "etc", "home", "lib", "usr", "usr/sbin",
                                      "var", "var/spool", "var/spool/mail", "var/www")]
    entries += [directory("root", mode=0o700), directory("tmp", mode=0o1777),
                file("bin/busybox", content.binary(seed, 1_050_000), mode=0o755),
                # busybox's applets are hard links to one program: one file, many names.
                *[hardlink(f"bin/{a}", "bin/busybox") for a in _BUSYBOX_APPLETS],
                file("etc/passwd", content.passwd()), file("etc/group", content.group()),
                file("etc/hostname", b"busybox\n")]
    if variant == "glibc":
        entries += [file("lib/ld-linux-x86-64.so.2", content.binary(seed + "/ld", 230_000), mode=0o755),
                    file("lib/libc.so.6", content.binary(seed + "/libc", 1_200_000), mode=0o755),
                    file("lib/libm.so.6", content.binary(seed + "/libm", 280_000), mode=0o755),
                    file("lib/libresolv.so.2", content.binary(seed + "/resolv", 60_000), mode=0o755),
                    file("lib/libnss_files.so.2", content.binary(seed + "/nss", 30_000), mode=0o755)]
    builder = _builder("amd64", created)
    builder.add_layer(entries, created_by=f"ADD busybox-{variant}.tar.xz / # buildkit")
    builder.labels(_labels("busybox", f"1.36.1-{variant}", created,
                           "many Unix tools in one small executable"))
    builder.cmd(["sh"])
    return builder.build()


# --- redis and python: two images on one alpine base ----------------------

_ENTRYPOINT_SCRIPT = b"""#!/bin/sh
set -e
# course copy of redis's docker-entrypoint.sh: step down from root, then run
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
\tset -- redis-server "$@"
fi
exec "$@"
"""


def _redis_image(arch: str):
    created = "2024-06-10T10:00:00Z"
    seed = f"redis-7.2.5-{arch}"
    builder = _builder(arch, created, base=alpine_image("3.20", arch))
    builder.add_layer([
        directory("etc"), directory("home"), directory("home/redis", uid=999, gid=1000),
        file("etc/passwd", content.passwd(["redis:x:999:1000:Linux User,,,:/home/redis:/sbin/nologin"])),
        file("etc/group", content.group(["redis:x:1000:redis"])),
        file("etc/shadow", b"root:*::0:::::\nnobody:!::0:::::\nredis:!::0:::::\n", mode=0o640),
    ], created_by="RUN /bin/sh -c addgroup -S -g 1000 redis && adduser -S -G redis -u 999 redis # buildkit")
    builder.env("REDIS_VERSION", "7.2.5")
    builder.add_layer([
        directory("data", uid=999, gid=1000),
        directory("usr"), directory("usr/local"), directory("usr/local/bin"),
        file("usr/local/bin/redis-server", content.binary(seed + "/server", 1_600_000), mode=0o755),
        file("usr/local/bin/redis-cli", content.binary(seed + "/cli", 420_000), mode=0o755),
        file("usr/local/bin/redis-benchmark", content.binary(seed + "/bench", 230_000), mode=0o755),
        symlink("usr/local/bin/redis-check-aof", "redis-server"),
        symlink("usr/local/bin/redis-check-rdb", "redis-server"),
        symlink("usr/local/bin/redis-sentinel", "redis-server"),
    ], created_by="RUN /bin/sh -c set -eux; apk add --no-cache --virtual .build-deps "
                  "gcc make musl-dev openssl-dev; make -C /usr/src/redis install; "
                  "apk del .build-deps; mkdir /data && chown redis:redis /data # buildkit")
    builder.volume("/data")
    builder.workdir("/data")
    builder.add_layer([
        directory("usr"), directory("usr/local"), directory("usr/local/bin"),
        file("usr/local/bin/docker-entrypoint.sh", _ENTRYPOINT_SCRIPT, mode=0o755),
    ], created_by="COPY docker-entrypoint.sh /usr/local/bin/ # buildkit")
    builder.entrypoint(["docker-entrypoint.sh"])
    builder.expose("6379/tcp")
    builder.cmd(["redis-server"])
    builder.labels(_labels("redis", "7.2.5", created, "an in-memory data store, on alpine:3.20"))
    return builder.build()


def redis(revision: int = 1):
    """Build ``redis:latest``: alpine:3.20 plus three layers and server metadata."""
    return build_index([_redis_image(a) for a in ARCHES])


def _python_image(arch: str):
    created = "2024-06-12T12:00:00Z"
    seed = f"python-3.12.4-{arch}"
    builder = _builder(arch, created, base=alpine_image("3.20", arch))
    builder.env("PATH", "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    builder.env("LANG", "C.UTF-8")
    builder.add_layer([
        directory("usr"), directory("usr/share"), directory("usr/share/zoneinfo"),
        directory("usr/share/zoneinfo/Europe"),
        *[file(f"usr/share/zoneinfo/{zone}", content.binary(f"{seed}/tz/{zone}", 2_300))
          for zone in ("UTC", "Europe/Berlin", "Europe/London", "Europe/Paris")],
    ], created_by="RUN /bin/sh -c set -eux; apk add --no-cache ca-certificates tzdata; # buildkit")
    builder.env("PYTHON_VERSION", "3.12.4")
    stdlib = ["abc", "argparse", "ast", "asyncio/base_events", "asyncio/tasks", "base64",
              "collections/__init__", "contextlib", "copy", "csv", "dataclasses", "datetime",
              "email/message", "enum", "functools", "gzip", "hashlib", "http/client",
              "inspect", "io", "json/decoder", "json/encoder", "logging/__init__", "os",
              "pathlib", "pickle", "random", "re/_parser", "shutil", "socket", "ssl",
              "string", "subprocess", "tarfile", "tempfile", "threading", "typing",
              "unittest/case", "urllib/parse", "uuid", "zipfile/__init__"]
    lib = "usr/local/lib/python3.12"
    dirs = sorted({f"{lib}/{m.rsplit('/', 1)[0]}" for m in stdlib if "/" in m})
    builder.add_layer([
        directory("usr"), directory("usr/local"), directory("usr/local/bin"),
        directory("usr/local/lib"), directory(lib), *[directory(d) for d in dirs],
        file("usr/local/bin/python3.12", content.binary(seed + "/python", 18_000), mode=0o755),
        file("usr/local/lib/libpython3.12.so.1.0", content.binary(seed + "/libpython", 1_500_000),
             mode=0o755),
        *[file(f"{lib}/{m}.py", content.text_lines(f"{seed}/{m}", 600)) for m in stdlib],
    ], created_by="RUN /bin/sh -c set -eux; apk add --no-cache --virtual .build-deps "
                  "gcc make; ./configure --enable-shared; make -j \"$(nproc)\"; make install; "
                  "apk del --no-network .build-deps # buildkit")
    builder.add_layer([
        directory("usr"), directory("usr/local"), directory("usr/local/bin"),
        *[symlink(f"usr/local/bin/{name}", target) for name, target in
          (("idle", "idle3"), ("pip", "pip3"), ("pydoc", "pydoc3"), ("python", "python3"),
           ("python-config", "python3-config"), ("python3", "python3.12"))],
    ], created_by="RUN /bin/sh -c set -eux; for src in idle3 pip3 pydoc3 python3 "
                  "python3-config; do dst=\"$(echo \"$src\" | tr -d 3)\"; "
                  "ln -svT \"$src\" \"/usr/local/bin/$dst\"; done # buildkit")
    builder.cmd(["python3"])
    builder.labels(_labels("python", "3.12.4", created, "the Python language, on alpine:3.20"))
    return builder.build()


def python(revision: int = 1):
    """Build ``python:3.12-alpine``: alpine:3.20 (the same base layer as redis) plus three layers."""
    return build_index([_python_image(a) for a in ARCHES])


# --- ubuntu and mongo -----------------------------------------------------

def _ubuntu_rootfs(codename: str, version: str, arch: str = "amd64") -> list:
    _, _, _, triplet = ARCHES[arch]
    seed = f"ubuntu-{codename}-{arch}"
    libdir = f"usr/lib/{triplet}"
    return [
        *[directory(d) for d in ("boot", "dev", "etc", "etc/apt", "etc/apt/apt.conf.d",
                                 "etc/dpkg", "etc/dpkg/dpkg.cfg.d", "home", "media", "mnt",
                                 "opt", "proc", "run", "srv", "sys", "usr", "usr/bin",
                                 "usr/lib", libdir, "usr/local", "usr/sbin", "usr/share",
                                 "usr/share/doc", "var", "var/cache", "var/lib", "var/lib/apt",
                                 "var/lib/apt/lists", "var/lib/dpkg", "var/log", "var/tmp")],
        directory("root", mode=0o700), directory("tmp", mode=0o1777),
        # Ubuntu's "merged /usr": /bin, /lib and /sbin are links into /usr.
        symlink("bin", "usr/bin"), symlink("lib", "usr/lib"), symlink("sbin", "usr/sbin"),
        file("etc/os-release", content.os_release(
            "Ubuntu", "ubuntu", version, f"Ubuntu {version} LTS",
            f"VERSION_CODENAME={codename}\nID_LIKE=debian\n")),
        file("etc/debian_version", b"trixie/sid\n" if codename == "noble" else b"bookworm/sid\n"),
        file("etc/hostname", b"ubuntu\n"),
        file("etc/passwd", content.passwd(["bin:x:2:2:bin:/bin:/usr/sbin/nologin",
                                           "sys:x:3:3:sys:/dev:/usr/sbin/nologin"])),
        file("etc/group", content.group()),
        file("etc/apt/sources.list", b"# See sources.list(5)\n#deb http://archive.ubuntu.com/ubuntu/ "
             + codename.encode() + b" universe\n"),
        file("usr/bin/bash", content.binary(seed + "/bash", 1_200_000), mode=0o755),
        file("usr/bin/dash", content.binary(seed + "/dash", 120_000), mode=0o755),
        symlink("usr/bin/sh", "dash"),
        *[file(f"usr/bin/{tool}", content.binary(f"{seed}/{tool}", 140_000), mode=0o755)
          for tool in ("cat", "cp", "ls", "mkdir", "mv", "rm", "sed", "tar")],
        file("usr/bin/apt", content.binary(seed + "/apt", 20_000), mode=0o755),
        file("usr/bin/dpkg", content.binary(seed + "/dpkg", 300_000), mode=0o755),
        file(f"{libdir}/libc.so.6", content.binary(seed + "/libc", 1_500_000), mode=0o755),
        file(f"{libdir}/libapt-pkg.so.6.0", content.binary(seed + "/libapt", 1_000_000), mode=0o644),
        file(f"{libdir}/libsystemd.so.0", content.binary(seed + "/libsystemd", 600_000), mode=0o644),
        file("var/lib/dpkg/status", content.text_lines(seed + "/status", 5_000)),
        *[file(f"var/lib/apt/lists/archive.ubuntu.com_ubuntu_dists_{codename}_{part}",
               content.text_lines(f"{seed}/{part}", 1_200)) for part in ("InRelease", "main")],
        file("usr/share/doc/README", content.text_lines(seed + "/doc", 300)),
    ]


def ubuntu_noble(revision: int = 1):
    """Build ``ubuntu:latest`` (24.04) in five layers, the way older Ubuntu images were made."""
    created = "2024-06-27T20:00:00Z"
    builder = _builder("amd64", created)
    builder.arg("RELEASE")
    builder.arg("LAUNCHPAD_BUILD_ARCH")
    builder.label("org.opencontainers.image.ref.name", "ubuntu")
    builder.label("org.opencontainers.image.version", "24.04")
    builder.add_layer(_ubuntu_rootfs("noble", "24.04"),
                      created_by="ADD file:ubuntu-noble-oci-amd64-root.tar.gz in / ")
    builder.add_layer([
        directory("etc"), directory("etc/apt"), directory("etc/apt/apt.conf.d"),
        directory("etc/dpkg"), directory("etc/dpkg/dpkg.cfg.d"), directory("usr"),
        directory("usr/sbin"),
        file("usr/sbin/policy-rc.d", b"#!/bin/sh\nexit 101\n", mode=0o755),
        file("etc/dpkg/dpkg.cfg.d/docker-apt-speedup", b"force-unsafe-io\n"),
        file("etc/apt/apt.conf.d/docker-clean",
             b'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb || true"; };\n'),
    ], created_by="/bin/sh -c set -xe && echo '#!/bin/sh' > /usr/sbin/policy-rc.d "
                  "&& echo 'exit 101' >> /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d")
    builder.add_layer([
        # Deleting files in an upper layer does not shrink the layers below:
        # the deletion is recorded as "whiteout" entries.
        directory("var"), directory("var/lib"), directory("var/lib/apt"),
        directory("var/lib/apt/lists"),
        whiteout("var/lib/apt/lists/archive.ubuntu.com_ubuntu_dists_noble_InRelease"),
        whiteout("var/lib/apt/lists/archive.ubuntu.com_ubuntu_dists_noble_main"),
    ], created_by="/bin/sh -c rm -rf /var/lib/apt/lists/*")
    builder.add_layer([
        directory("run"), directory("run/systemd"), file("run/systemd/container", b"docker\n"),
    ], created_by="/bin/sh -c mkdir -p /run/systemd && echo 'docker' > /run/systemd/container")
    builder.add_layer([
        directory("etc"), directory("etc/apt"),
        file("etc/apt/sources.list", b"# See sources.list(5)\ndeb http://archive.ubuntu.com/ubuntu/ noble universe\n"),
    ], created_by="/bin/sh -c sed -i 's/^#\\s*\\(deb.*universe\\)$/\\1/g' /etc/apt/sources.list")
    builder.labels(_labels("ubuntu", "24.04", created, "Ubuntu 24.04 LTS (noble)"))
    builder.cmd(["/bin/bash"])
    return builder.build()


@lru_cache(maxsize=None)
def ubuntu_jammy(revision: int = 1):
    """Build ``ubuntu:22.04``: one root filesystem layer, then ``CMD ["/bin/bash"]``."""
    created = "2024-06-27T19:00:00Z"
    builder = _builder("amd64", created)
    builder.arg("RELEASE")
    builder.arg("LAUNCHPAD_BUILD_ARCH")
    builder.label("org.opencontainers.image.ref.name", "ubuntu")
    builder.label("org.opencontainers.image.version", "22.04")
    builder.add_layer(_ubuntu_rootfs("jammy", "22.04"),
                      created_by="ADD file:ubuntu-jammy-oci-amd64-root.tar.gz in / ")
    builder.labels(_labels("ubuntu", "22.04", created, "Ubuntu 22.04 LTS (jammy)"))
    builder.cmd(["/bin/bash"])
    return builder.build()


def mongo(revision: int = 1):
    """Build ``mongo:4.2.24`` on the ubuntu:22.04 base (the real one uses 18.04)."""
    created = "2023-09-01T08:00:00Z"
    seed = "mongo-4.2.24"
    builder = _builder("amd64", created, base=ubuntu_jammy())
    builder.add_layer([
        directory("etc"), directory("home"), directory("home/mongodb", uid=999, gid=999),
        file("etc/passwd", content.passwd(["mongodb:x:999:999::/home/mongodb:/bin/sh"])),
        file("etc/group", content.group(["mongodb:x:999:"])),
    ], created_by="/bin/sh -c groupadd -r mongodb && useradd -r -g mongodb mongodb")
    builder.add_layer([
        directory("usr"), directory("usr/bin"), directory("var"), directory("var/lib"),
        directory("var/lib/dpkg"),
        file("usr/bin/jq", content.binary(seed + "/jq", 300_000), mode=0o755),
        file("usr/bin/numactl", content.binary(seed + "/numactl", 60_000), mode=0o755),
        file("var/lib/dpkg/status", content.text_lines("ubuntu-jammy-amd64/status", 5_000)
             + content.text_lines(seed + "/status", 200)),
    ], created_by="/bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends "
                  "ca-certificates jq numactl; rm -rf /var/lib/apt/lists/*")
    builder.env("GOSU_VERSION", "1.12")
    builder.env("JSYAML_VERSION", "3.13.1")
    builder.add_layer([
        directory("usr"), directory("usr/local"), directory("usr/local/bin"),
        file("usr/local/bin/gosu", content.binary(seed + "/gosu", 700_000), mode=0o755),
        file("js-yaml.js", content.text_lines(seed + "/jsyaml", 900)),
    ], created_by="/bin/sh -c set -ex; wget -O /usr/local/bin/gosu ...; chmod +x /usr/local/bin/gosu; gosu --version")
    builder.add_layer([directory("docker-entrypoint-initdb.d")],
                      created_by="/bin/sh -c mkdir /docker-entrypoint-initdb.d")
    for key, value in (("MONGO_PACKAGE", "mongodb-org"), ("MONGO_REPO", "repo.mongodb.org"),
                       ("MONGO_MAJOR", "4.2"), ("MONGO_VERSION", "4.2.24")):
        builder.env(key, value)
    builder.add_layer([
        directory("usr"), directory("usr/bin"),
        file("usr/bin/mongod", content.binary(seed + "/mongod", 1_800_000), mode=0o755),
        file("usr/bin/mongo", content.binary(seed + "/mongo", 800_000), mode=0o755),
        file("usr/bin/mongos", content.binary(seed + "/mongos", 600_000), mode=0o755),
    ], created_by="/bin/sh -c set -x && apt-get update && apt-get install -y "
                  "${MONGO_PACKAGE}=$MONGO_VERSION ${MONGO_PACKAGE}-server=$MONGO_VERSION "
                  "&& rm -rf /var/lib/apt/lists/*")
    builder.add_layer([
        directory("data"), directory("data/db", uid=999, gid=999),
        directory("data/configdb", uid=999, gid=999),
    ], created_by="/bin/sh -c mkdir -p /data/db /data/configdb && chown -R mongodb:mongodb /data/db /data/configdb")
    builder.volume("/data/db")
    builder.volume("/data/configdb")
    builder.add_layer([
        directory("usr"), directory("usr/local"), directory("usr/local/bin"),
        file("usr/local/bin/docker-entrypoint.sh",
             b"#!/bin/bash\nset -Eeuo pipefail\n# course copy of mongo's entrypoint\nexec \"$@\"\n",
             mode=0o755),
    ], created_by="COPY docker-entrypoint.sh /usr/local/bin/")
    builder.entrypoint(["docker-entrypoint.sh"])
    builder.expose("27017/tcp")
    builder.cmd(["mongod"])
    builder.labels(_labels("mongo", "4.2.24", created, "a document database, on ubuntu:22.04"))
    return builder.build()


def hello_world(revision: int = 1):
    """Build ``hello-world``: one layer holding ``/hello``, a 600-byte Linux program."""
    created = "2023-05-02T16:49:27Z"
    builder = _builder("amd64", created)
    builder.add_layer([file("hello", hello_program(), mode=0o755)],
                      created_by="COPY hello / # buildkit")
    builder.labels(_labels("hello-world", "latest", created,
                           "the smallest image that runs: one static program"))
    builder.cmd(["/hello"])
    return builder.build()
