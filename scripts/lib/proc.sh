# shellcheck shell=bash
# The one way the scripts in scripts/ start, stop, wait for and report the
# processes they run (sourced, never run). up.sh, down.sh, bench.sh and the
# test scripts use the named-process functions; scripts/infra/lib.sh builds
# its stop_pid and wait_until on proc_stop_pid and proc_wait.
#
# A named process has a pid file PROC_RUN_DIR/NAME.pid and a log
# PROC_LOG_DIR/NAME.log (appended to). Both directories default to
# $KHLANG_HOME/run and $KHLANG_HOME/logs; bench.sh points them at its own
# run directory.
#
#   proc_start NAME CMD...          start CMD in the background unless NAME already runs
#   proc_wait_ready NAME TARGET S   wait up to S seconds until TARGET answers: an http(s)
#                                   URL (2xx) or a TCP port on 127.0.0.1; fails early if
#                                   NAME exits (the end of its log is printed)
#   proc_stop NAME [S]              SIGTERM, up to S seconds (default 30) to exit, then
#                                   SIGKILL; removes the pid file
#   proc_pid NAME                   print the pid if NAME runs (else status 1)
#   proc_status NAME                one line: running (pid) or stopped
#
# Lower level, on a bare pid:
#   proc_stop_pid PID S             SIGTERM, S seconds, SIGKILL; status 1 if it survives
#   proc_wait S PID CHECK...        poll CHECK every 0.25 s: 0 when it succeeds, 2 if PID
#                                   dies first, 1 (after a last try) when S seconds pass
#
# Messages go to stderr prefixed with PROC_TAG (default: the script's name).

PROC_RUN_DIR="${PROC_RUN_DIR:-${KHLANG_HOME:-.khlang}/run}"
PROC_LOG_DIR="${PROC_LOG_DIR:-${KHLANG_HOME:-.khlang}/logs}"
PROC_TAG="${PROC_TAG:-$(basename "$0" .sh)}"

proc_say() { printf '%s: %s\n' "$PROC_TAG" "$*" >&2; }

proc_pid() {
    local file="$PROC_RUN_DIR/$1.pid" pid
    [[ -r "$file" ]] || return 1
    pid="$(tr -dc '0-9' <"$file")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    printf '%s' "$pid"
}

proc_start() {
    local name="$1" pid
    shift
    mkdir -p "$PROC_RUN_DIR" "$PROC_LOG_DIR"
    if pid="$(proc_pid "$name")"; then
        proc_say "$name: already running (pid $pid)"
        return 0
    fi
    proc_say "$name: starting, log in $PROC_LOG_DIR/$name.log"
    # nohup and no stdin: the process outlives the script that started it
    # (make up returns while the platform runs).
    nohup "$@" >>"$PROC_LOG_DIR/$name.log" 2>&1 </dev/null &
    printf '%s\n' "$!" >"$PROC_RUN_DIR/$name.pid"
}

proc_wait() {
    local timeout_s="$1" pid="$2" deadline
    shift 2
    deadline=$((SECONDS + timeout_s))
    while ((SECONDS < deadline)); do
        if "$@"; then return 0; fi
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 2; fi
        sleep 0.25
    done
    "$@" && return 0
    return 1
}

# proc_answers TARGET: an http(s) URL answering 2xx, or a TCP port on 127.0.0.1.
proc_answers() {
    case "$1" in
        http://* | https://*) curl -sf --max-time 2 -o /dev/null "$1" ;;
        *)
            # shellcheck disable=SC2016 # $0 expands in the inner bash
            timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null
            ;;
    esac
}

proc_wait_ready() {
    local name="$1" target="$2" timeout_s="$3" pid rc=0
    # the pid as started, even if it has exited already
    pid="$(tr -dc '0-9' <"$PROC_RUN_DIR/$name.pid" 2>/dev/null)" || pid=""
    proc_wait "$timeout_s" "$pid" proc_answers "$target" || rc=$?
    case "$rc" in
        0) return 0 ;;
        2) proc_say "$name: exited during start; see $PROC_LOG_DIR/$name.log" ;;
        *) proc_say "$name: $target not ready after ${timeout_s}s; see $PROC_LOG_DIR/$name.log" ;;
    esac
    tail -n 20 "$PROC_LOG_DIR/$name.log" >&2 2>/dev/null || true
    return 1
}

proc_stop_pid() {
    local pid="$1" timeout_s="$2" i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < timeout_s * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    proc_say "pid $pid still alive after ${timeout_s}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

proc_stop() {
    local name="$1" timeout_s="${2:-30}" pid rc=0
    if pid="$(proc_pid "$name")"; then
        proc_say "$name: stopping (pid $pid)"
        proc_stop_pid "$pid" "$timeout_s" || rc=$?
    fi
    rm -f "$PROC_RUN_DIR/$name.pid"
    return "$rc"
}

proc_status() {
    local pid
    if pid="$(proc_pid "$1")"; then
        printf '%-10s running (pid %s)  log %s\n' "$1" "$pid" "$PROC_LOG_DIR/$1.log"
    else
        printf '%-10s stopped\n' "$1"
    fi
}
