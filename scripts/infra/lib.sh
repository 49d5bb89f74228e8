# shellcheck shell=bash
# shellcheck disable=SC2034 # variables here are used by the sourcing scripts
# Common helpers for the scripts/infra/*.sh service scripts. Sourced, never run.
#
# Layout (all overridable through the environment):
#   KHLANG_HOME   state, logs, secrets, pid files   default: <repo>/.khlang
#   KHLANG_CACHE  downloads (Maven repo, unpacked)   default: $HOME/.cache/khlang
#
#   $KHLANG_HOME/logs/<service>.log   service log (previous run kept as .log.1)
#   $KHLANG_HOME/run/<service>.pid    pid of a service we started
#   $KHLANG_HOME/secrets/*            generated passwords (0600, never committed)
#   $KHLANG_HOME/env                  exported variables for the Rust code and tests

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_DIR/../.." && pwd)"

KHLANG_HOME="${KHLANG_HOME:-$REPO_ROOT/.khlang}"
KHLANG_CACHE="${KHLANG_CACHE:-${HOME:-/root}/.cache/khlang}"
export KHLANG_HOME KHLANG_CACHE

LOG_DIR="$KHLANG_HOME/logs"
RUN_DIR="$KHLANG_HOME/run"
SECRETS_DIR="$KHLANG_HOME/secrets"

# Every service binds here and nowhere else.
BIND_HOST=127.0.0.1

# Pinned Maven plugin used for all downloads (reproducible; needs Maven >= 3.6.3).
MVN_DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

SERVICE="${SERVICE:-infra}"

khl_init() {
    mkdir -p "$LOG_DIR" "$RUN_DIR" "$SECRETS_DIR" "$KHLANG_CACHE"
    chmod 700 "$SECRETS_DIR"
}

info() { printf '%s: %s\n' "$SERVICE" "$*" >&2; }

# die MESSAGE [LOGFILE]: one line naming the service (and its log), exit 1.
die() {
    if [[ -n "${2:-}" ]]; then
        printf '%s: FAILED: %s (see log: %s)\n' "$SERVICE" "$1" "$2" >&2
    else
        printf '%s: FAILED: %s\n' "$SERVICE" "$1" >&2
    fi
    exit 1
}

# Serialize start/stop of one service (parallel test runners may call us).
# Background processes must not inherit the lock: launch them with
# {KHL_LOCK_FD}>&- on their command line.
with_lock() {
    local name="$1"
    exec {KHL_LOCK_FD}>"$RUN_DIR/$name.lock"
    flock "$KHL_LOCK_FD"
}

# port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
    # shellcheck disable=SC2016 # $0/$1 expand in the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$BIND_HOST" "$1" 2>/dev/null
}

# port_owner PORT: best-effort description of the process listening on PORT.
port_owner() {
    local out=""
    if command -v ss >/dev/null 2>&1; then
        out="$(ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*))' | head -n1 || true)"
    fi
    printf '%s' "${out:-an unknown process}"
}

# pid_from_file FILE: print the pid stored in FILE if that process is alive.
pid_from_file() {
    local pid
    [[ -r "$1" ]] || return 1
    pid="$(tr -dc '0-9' <"$1")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    printf '%s' "$pid"
}

# pid_has_marker PID MARKER: the process command line contains MARKER
# (guards against a stale pid file whose pid was reused by something else).
pid_has_marker() {
    [[ -r "/proc/$1/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# our_pid NAME MARKER: print the pid of our running service NAME, if any.
our_pid() {
    local pid
    pid="$(pid_from_file "$RUN_DIR/$1.pid")" || return 1
    pid_has_marker "$pid" "$2" || return 1
    printf '%s' "$pid"
}

# The process helpers every script in scripts/ shares (scripts/lib/proc.sh).
PROC_TAG="$SERVICE"
PROC_RUN_DIR="$RUN_DIR"
PROC_LOG_DIR="$LOG_DIR"
# shellcheck source=../lib/proc.sh
source "$INFRA_DIR/../lib/proc.sh"

# stop_pid PID TIMEOUT_S: SIGTERM, wait, SIGKILL as a last resort.
stop_pid() { proc_stop_pid "$@"; }

# rotate_log FILE: keep the previous run's log as FILE.1.
rotate_log() {
    if [[ -s "$1" ]]; then mv -f "$1" "$1.1"; fi
    : >"$1"
}

# secret NAME: print the secret, generating it (hex, 32 chars) on first use.
secret() {
    local f="$SECRETS_DIR/$1"
    if [[ ! -s "$f" ]]; then
        (
            umask 077
            od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$f.tmp"
            mv -f "$f.tmp" "$f"
        )
    fi
    chmod 600 "$f"
    tr -d '\n' <"$f"
}

# java_major JAVA_BIN: print the feature version (17, 21, 25...), or fail.
java_major() {
    local v
    v="$("$1" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java\.specification\.version/ {print $2; exit}')"
    v="${v#1.}"
    [[ "$v" =~ ^[0-9]+$ ]] || return 1
    printf '%s' "$v"
}

# find_java MIN: print a java binary of at least version MIN. Preference:
# $JAVA_HOME, then the java on PATH, then the newest JDK under /usr/lib/jvm.
find_java() {
    local min="$1" cand v best="" best_v=0
    local -a first=()
    [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] && first+=("$JAVA_HOME/bin/java")
    command -v java >/dev/null 2>&1 && first+=("$(command -v java)")
    for cand in "${first[@]}"; do
        v="$(java_major "$cand")" || continue
        if ((v >= min)); then
            printf '%s' "$cand"
            return 0
        fi
    done
    for cand in /usr/lib/jvm/*/bin/java; do
        [[ -x "$cand" ]] || continue
        v="$(java_major "$cand")" || continue
        if ((v >= min && v > best_v)); then best="$cand" best_v="$v"; fi
    done
    [[ -n "$best" ]] || return 1
    printf '%s' "$best"
}

# mvn_fetch LOGFILE ARGS...: run Maven in batch mode against our cache repo.
mvn_fetch() {
    local logf="$1"
    shift
    command -v mvn >/dev/null 2>&1 || die "mvn not found (install Maven: apt-get install -y maven)"
    # One Maven at a time on the shared local repository (up.sh starts the
    # services in parallel, and both Kafka and the registry download).
    (
        exec {m2_fd}>"$KHLANG_CACHE/m2.lock"
        flock "$m2_fd"
        mvn -B -ntp -Dmaven.repo.local="$KHLANG_CACHE/m2" "$@" >>"$logf" 2>&1
    )
}

# apt_install PACKAGE...: install Debian packages (root only), serialized.
apt_install() {
    [[ "$(id -u)" == 0 ]] || die "packages missing: $*; install them (apt-get install -y $*) or run as root"
    command -v apt-get >/dev/null 2>&1 || die "packages missing: $* and no apt-get on this machine"
    local logf="$LOG_DIR/apt.log"
    info "installing Debian packages: $* (log: $logf)"
    (
        exec {apt_fd}>"$RUN_DIR/apt.lock"
        flock "$apt_fd"
        export DEBIAN_FRONTEND=noninteractive
        if ! apt-get install -y -q -o DPkg::Lock::Timeout=300 "$@" >>"$logf" 2>&1; then
            apt-get update -q -o DPkg::Lock::Timeout=300 >>"$logf" 2>&1 || true
            apt-get install -y -q -o DPkg::Lock::Timeout=300 "$@" >>"$logf" 2>&1
        fi
    ) || die "apt-get install $* failed" "$logf"
}

# service_dirs DIR LOGNAME OSUSER [create]: set SVC_ROOT and SVC_LOG for a
# service whose server runs as OSUSER (when we are root). Normally
# $KHLANG_HOME/DIR and $KHLANG_HOME/logs/LOGNAME.log. If OSUSER cannot
# traverse $KHLANG_HOME (say, a clone under /root), the state lives in
# OSUSER's home instead, in a directory named after a hash of $KHLANG_HOME,
# and those two paths are symlinks to it. Only with "create" is anything made.
service_dirs() {
    local dir="$1" logname="$2" osuser="$3" create="${4:-}" home alt
    SVC_ROOT="$KHLANG_HOME/$dir"
    SVC_LOG="$LOG_DIR/$logname.log"
    if [[ -L "$SVC_ROOT" ]]; then
        SVC_ROOT="$(readlink -f "$SVC_ROOT")"
        SVC_LOG="$SVC_ROOT/$logname.log"
        return 0
    fi
    [[ "$create" == create && "$(id -u)" == 0 ]] || return 0
    id "$osuser" >/dev/null 2>&1 || return 0
    runuser -u "$osuser" -- test -x "$KHLANG_HOME" && return 0
    [[ -e "$SVC_ROOT" ]] &&
        die "$SVC_ROOT exists but OS user $osuser cannot traverse $KHLANG_HOME; move it away or use another KHLANG_HOME"
    home="$(getent passwd "$osuser" | cut -d: -f6)"
    [[ "$home" == /var/lib/* ]] || home="/var/lib/$osuser"
    alt="$home/khlang-$(printf '%s' "$KHLANG_HOME" | sha256sum | cut -c1-12)"
    mkdir -p "$alt"
    chown "$osuser:$(id -gn "$osuser")" "$alt"
    runuser -u "$osuser" -- test -x "$alt" || die "OS user $osuser cannot reach $alt either"
    info "OS user $osuser cannot traverse $KHLANG_HOME: keeping $dir in $alt (symlinked)"
    ln -sfn "$alt" "$SVC_ROOT"
    ln -sfn "$alt/$logname.log" "$LOG_DIR/$logname.log"
    SVC_ROOT="$alt"
    SVC_LOG="$alt/$logname.log"
}

# wait_until TIMEOUT_S PID CHECK...: poll CHECK every 0.25 s until it
# succeeds (0), the process PID dies (2), or the timeout passes (1).
wait_until() { proc_wait "$@"; }

# bad_subcommand NAME SUBCOMMANDS: common error for unknown subcommands.
bad_subcommand() {
    printf 'usage: %s {%s}\n' "$1" "$2" >&2
    exit 2
}
