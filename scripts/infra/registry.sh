#!/usr/bin/env bash
# Schema registry with the Confluent REST API: Apicurio Registry 3.x, run from
# the Quarkus assembly that Maven Central serves as
# io.apicurio:apicurio-registry-app:<version>:tar.gz:all. Binds 127.0.0.1 only.
#
#   scripts/infra/registry.sh [start]   start (or reuse), wait until the ccompat API answers
#   scripts/infra/registry.sh stop      SIGTERM + wait (exit 4: port served by a registry not ours)
#   scripts/infra/registry.sh restart   stop + start
#   scripts/infra/registry.sh status    one line; exit 0 if up, 3 if down
#   scripts/infra/registry.sh fetch     only download + unpack into the cache
#   scripts/infra/registry.sh url       print the Confluent-compatible base URL
#   scripts/infra/registry.sh check     verify the Confluent semantics (throwaway subject)
#
# Clients use the Confluent-compatible base URL
#   http://127.0.0.1:8081/apis/ccompat/v7
#
# Version: always 3.3.3 (APICURIO_PINNED below), which needs Java >= 21 (a
# JDK under /usr/lib/jvm, such as the Temurin one, is found automatically);
# without one it stops with a message rather than run another version.
# KHLANG_APICURIO_VERSION overrides the pin, with a warning.
#
# Confluent semantics configured here:
#   - global compatibility defaults to BACKWARD, as in Confluent (Apicurio's
#     own default is no rule); KHLANG_REGISTRY_COMPATIBILITY changes it;
#   - subject / version deletion enabled (Apicurio disables it by default);
#   - storage: H2 in a file under $KHLANG_HOME/registry/h2, so schema ids stay
#     valid for records kept in Kafka across restarts
#     (KHLANG_REGISTRY_STORAGE=mem gives a fresh in-memory registry per start).
#
# Environment: KHLANG_REGISTRY_PORT (8081), KHLANG_REGISTRY_MGMT_PORT (9081,
# Quarkus health/metrics), KHLANG_APICURIO_VERSION, KHLANG_REGISTRY_JAVA,
# KHLANG_REGISTRY_HEAP (512m), KHLANG_REGISTRY_START_TIMEOUT (120 s).
set -euo pipefail
SERVICE=registry
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REG_PORT="${KHLANG_REGISTRY_PORT:-8081}"
MGMT_PORT="${KHLANG_REGISTRY_MGMT_PORT:-9081}"
COMPAT="${KHLANG_REGISTRY_COMPATIBILITY:-BACKWARD}"
STORAGE="${KHLANG_REGISTRY_STORAGE:-file}"
START_TIMEOUT="${KHLANG_REGISTRY_START_TIMEOUT:-120}"
HEAP="${KHLANG_REGISTRY_HEAP:-512m}"
BASE_URL="http://$BIND_HOST:$REG_PORT/apis/ccompat/v7"

REG_STATE="$KHLANG_HOME/registry"
REG_LOG="$LOG_DIR/registry.log"
FETCH_LOG="$LOG_DIR/registry-download.log"
PID_FILE="$RUN_DIR/registry.pid"
MARKER="-Dkhlang.home=$KHLANG_HOME "

# The registry version every machine runs: one pinned release, so schema
# checks behave the same in CI and on every laptop (Apicurio's ccompat API
# differs between releases: see README.md in this folder). It needs Java 21+.
APICURIO_PINNED=3.3.3

# Decide version + java once: APICURIO_VERSION, REG_JAVA.
choose_version() {
    local need
    APICURIO_VERSION="${KHLANG_APICURIO_VERSION:-$APICURIO_PINNED}"
    if [[ "$APICURIO_VERSION" != "$APICURIO_PINNED" ]]; then
        info "KHLANG_APICURIO_VERSION=$APICURIO_VERSION: not the pinned $APICURIO_PINNED that CI tests"
    fi
    case "$APICURIO_VERSION" in 3.0.*) need=17 ;; *) need=21 ;; esac
    if [[ -n "${KHLANG_REGISTRY_JAVA:-}" ]]; then
        REG_JAVA="$KHLANG_REGISTRY_JAVA"
        (($(java_major "$REG_JAVA") >= need)) ||
            die "Apicurio Registry $APICURIO_VERSION needs Java >= $need; KHLANG_REGISTRY_JAVA=$REG_JAVA is older"
    else
        REG_JAVA="$(find_java "$need")" ||
            die "Apicurio Registry $APICURIO_VERSION needs Java >= $need and none was found: install a JDK $need+ (for example Temurin from adoptium.net) under /usr/lib/jvm, or set KHLANG_REGISTRY_JAVA"
    fi
    REG_DIST="$KHLANG_CACHE/apicurio-registry-$APICURIO_VERSION"
}

registry_fetch() {
    [[ -f "$REG_DIST/.complete" ]] && return 0
    mkdir -p "$REG_DIST"
    local fetch_fd
    exec {fetch_fd}>"$REG_DIST.lock"
    flock "$fetch_fd"
    if [[ ! -f "$REG_DIST/.complete" ]]; then registry_fetch_locked; fi
    exec {fetch_fd}>&-
}

registry_fetch_locked() {
    local dl="$REG_DIST/download" type ok=""
    info "downloading Apicurio Registry $APICURIO_VERSION (io.apicurio:apicurio-registry-app, classifier all) from Maven Central"
    rm -rf "$dl" "$REG_DIST/app"
    mkdir -p "$dl"
    for type in tar.gz zip; do
        # maven-dependency-plugin 2.8, not 3.x: 3.x insists on reading the
        # artifact's parent POM (io.apicurio:apicurio-registry), which Maven
        # Central here does not serve for every version (3.0.9 lacks it);
        # 2.8 copies the archive without it.
        if mvn_fetch "$FETCH_LOG" org.apache.maven.plugins:maven-dependency-plugin:2.8:copy \
            "-Dartifact=io.apicurio:apicurio-registry-app:$APICURIO_VERSION:$type:all" \
            -DoutputDirectory="$dl"; then
            ok="$type"
            break
        fi
    done
    [[ -n "$ok" ]] || die "downloading Apicurio Registry $APICURIO_VERSION from Maven Central failed" "$FETCH_LOG"
    mkdir -p "$REG_DIST/app.tmp"
    if [[ "$ok" == tar.gz ]]; then
        tar -xzf "$dl"/*.tar.gz -C "$REG_DIST/app.tmp" >>"$FETCH_LOG" 2>&1 || die "unpacking failed" "$FETCH_LOG"
    else
        command -v unzip >/dev/null 2>&1 || apt_install unzip
        unzip -q "$dl"/*.zip -d "$REG_DIST/app.tmp" >>"$FETCH_LOG" 2>&1 || die "unpacking failed" "$FETCH_LOG"
    fi
    mv "$REG_DIST/app.tmp" "$REG_DIST/app"
    launcher_jar >/dev/null || die "no quarkus-run.jar or *-runner.jar in the Apicurio assembly" "$FETCH_LOG"
    # Keep only the unpacked copy (the archive is ~100-160 MB).
    rm -rf "$dl" "$KHLANG_CACHE/m2/io/apicurio/apicurio-registry-app/$APICURIO_VERSION"
    touch "$REG_DIST/.complete"
}

# The runnable jar: a Quarkus fast-jar (quarkus-run.jar, 3.1+) or a legacy
# runner jar (3.0.x), wherever the archive put it.
launcher_jar() {
    local j
    j="$(find "$REG_DIST/app" -maxdepth 3 \( -name quarkus-run.jar -o -name '*-runner.jar' \) -print -quit 2>/dev/null)"
    [[ -n "$j" ]] || return 1
    printf '%s' "$j"
}

ccompat_ready() {
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$BIND_HOST:$1/apis/ccompat/v7/subjects" 2>/dev/null)" || return 1
    [[ "$code" == 200 ]]
}

cmd_status() {
    local pid
    if pid="$(our_pid registry "$MARKER")"; then
        if ccompat_ready "$REG_PORT"; then
            echo "registry: up   $BASE_URL (pid $pid, Apicurio $(registry_version))"
            return 0
        fi
        echo "registry: running but not answering on $BASE_URL (pid $pid; log: $REG_LOG)"
        return 3
    fi
    if ccompat_ready "$REG_PORT"; then
        echo "registry: up   $BASE_URL (not started from $KHLANG_HOME)"
        return 0
    fi
    echo "registry: down"
    return 3
}

registry_version() {
    curl -s --max-time 3 "http://$BIND_HOST:$REG_PORT/apis/registry/v3/system/info" 2>/dev/null |
        sed -n 's/.*"version":"\([^"]*\)".*/\1/p'
}

cmd_start() {
    local pid rc jar
    with_lock registry
    if pid="$(our_pid registry "$MARKER")"; then
        rc=0
        wait_until "$START_TIMEOUT" "$pid" ccompat_ready "$REG_PORT" || rc=$?
        ((rc == 0)) || die "running (pid $pid) but $BASE_URL does not answer" "$REG_LOG"
        info "already running at $BASE_URL (pid $pid), reused"
        return 0
    fi
    rm -f "$PID_FILE"
    if port_open "$REG_PORT"; then
        if ccompat_ready "$REG_PORT"; then
            info "a registry not started from $KHLANG_HOME already answers at $BASE_URL; reusing it"
            return 0
        fi
        die "port $REG_PORT is in use by $(port_owner "$REG_PORT"), which is not our registry; stop it or set KHLANG_REGISTRY_PORT"
    fi
    if port_open "$MGMT_PORT"; then
        die "management port $MGMT_PORT is in use by $(port_owner "$MGMT_PORT"); stop it or set KHLANG_REGISTRY_MGMT_PORT"
    fi

    choose_version
    registry_fetch
    jar="$(launcher_jar)" || die "Apicurio assembly in $REG_DIST is incomplete; delete that directory and retry"
    mkdir -p "$REG_STATE/tmp" "$REG_STATE/h2"
    local -a opts=(
        "-Xmx$HEAP" "-Dkhlang.home=$KHLANG_HOME" "-Djava.io.tmpdir=$REG_STATE/tmp"
        "-Dquarkus.http.host=$BIND_HOST" "-Dquarkus.http.port=$REG_PORT"
        "-Dquarkus.management.host=$BIND_HOST" "-Dquarkus.management.port=$MGMT_PORT"
        "-Dquarkus.log.console.format=%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p [%c{2.}] (%t) %s%e%n"
        "-Dapicurio.rules.global.compatibility=$COMPAT"
        -Dapicurio.rest.deletion.artifact.enabled=true
        -Dapicurio.rest.deletion.artifact-version.enabled=true
        -Dapicurio.rest.deletion.group.enabled=true
        "-Dapicurio.storage.snapshot.location=$REG_STATE/tmp"
        "-Dapicurio.import.work-dir=$REG_STATE/tmp"
    )
    case "$STORAGE" in
        file) opts+=("-Dapicurio.datasource.url=jdbc:h2:file:$REG_STATE/h2/registry") ;;
        mem) ;;
        *) die "KHLANG_REGISTRY_STORAGE must be file or mem, not '$STORAGE'" ;;
    esac

    rotate_log "$REG_LOG"
    info "starting Apicurio Registry $APICURIO_VERSION at $BASE_URL ($STORAGE storage, $REG_JAVA)"
    (cd "$REG_STATE" && exec nohup "$REG_JAVA" "${opts[@]}" -jar "$jar" >>"$REG_LOG" 2>&1 </dev/null {KHL_LOCK_FD}>&-) &
    pid=$!
    printf '%s\n' "$pid" >"$PID_FILE"

    rc=0
    wait_until "$START_TIMEOUT" "$pid" ccompat_ready "$REG_PORT" || rc=$?
    case "$rc" in
        0) ;;
        2)
            rm -f "$PID_FILE"
            die "the registry process exited during startup" "$REG_LOG"
            ;;
        *) die "$BASE_URL not answering after ${START_TIMEOUT}s (pid $pid left running)" "$REG_LOG" ;;
    esac

    # Apicurio 3.0.x ignores apicurio.rules.global.*: set the global rule through the API.
    if [[ "$COMPAT" != NONE ]] && curl -s --max-time 5 "$BASE_URL/config" | grep -q '"NONE"'; then
        curl -s --max-time 5 -o /dev/null -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
            -d "{\"compatibility\":\"$COMPAT\"}" "$BASE_URL/config" ||
            die "could not set the global compatibility to $COMPAT" "$REG_LOG"
    fi
    info "up at $BASE_URL (pid $pid)"
}

cmd_stop() {
    local pid
    with_lock registry
    if ! pid="$(our_pid registry "$MARKER")"; then
        rm -f "$PID_FILE"
        if port_open "$REG_PORT"; then
            info "not stopped: port $REG_PORT is served by $(port_owner "$REG_PORT"), not started from $KHLANG_HOME"
            return 4
        fi
        info "not running"
        return 0
    fi
    info "stopping pid $pid"
    stop_pid "$pid" 60 || die "pid $pid would not stop" "$REG_LOG"
    rm -f "$PID_FILE"
    info "stopped"
}

# Check the Confluent semantics the platform relies on, against a throwaway
# subject that is deleted afterwards. Prints one line per check.
cmd_check() {
    local subj="khlang-selfcheck-$$-$RANDOM" failed=0 out
    local ct='Content-Type: application/vnd.schemaregistry.v1+json'
    local v1='{"schema":"{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}"}'
    local v2_ok='{"schema":"{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"b\",\"type\":\"int\",\"default\":0}]}"}'
    local v2_bad='{"schema":"{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"c\",\"type\":\"int\"}]}"}'
    # expect NAME METHOD PATH BODY EXPECTED_CODE EXPECTED_BODY_REGEX
    expect() {
        local code body
        body="$(curl -s --max-time 10 -w '\n%{http_code}' -X "$2" -H "$ct" ${4:+-d "$4"} "$BASE_URL$3")" || body=$'\n000'
        code="${body##*$'\n'}"
        body="${body%$'\n'*}"
        if [[ "$code" == "$5" && "$body" =~ $6 ]]; then
            printf 'ok    %-58s HTTP %s %s\n' "$1" "$code" "$body"
        else
            printf 'FAIL  %-58s HTTP %s %s (wanted %s /%s/)\n' "$1" "$code" "$body" "$5" "$6"
            failed=1
        fi
    }
    expect "list subjects" GET /subjects "" 200 '^\['
    expect "register v1" POST "/subjects/$subj/versions" "$v1" 200 '"id":[0-9]+'
    expect "set BACKWARD_TRANSITIVE" PUT "/config/$subj" '{"compatibility":"BACKWARD_TRANSITIVE"}' 200 'BACKWARD_TRANSITIVE'
    expect "read subject config" GET "/config/$subj" "" 200 'BACKWARD_TRANSITIVE'
    expect "compat check: new required field -> false" POST "/compatibility/subjects/$subj/versions/latest" "$v2_bad" 200 '"is_compatible":false'
    expect "compat check: new field with default -> true" POST "/compatibility/subjects/$subj/versions/latest" "$v2_ok" 200 '"is_compatible":true'
    expect "register incompatible -> 409" POST "/subjects/$subj/versions" "$v2_bad" 409 '"error_code":409'
    expect "register compatible v2" POST "/subjects/$subj/versions" "$v2_ok" 200 '"id":[0-9]+'
    expect "re-register v2 is idempotent" POST "/subjects/$subj/versions" "$v2_ok" 200 '"id":[0-9]+'
    expect "versions" GET "/subjects/$subj/versions" "" 200 '^\[1,2\]$'
    expect "latest" GET "/subjects/$subj/versions/latest" "" 200 '"version":2'
    expect "lookup schema under subject" POST "/subjects/$subj" "$v1" 200 '"version":1'
    expect "unknown subject -> 404/40401" GET "/subjects/$subj-nope/versions" "" 404 '40401'
    expect "soft delete subject" DELETE "/subjects/$subj" "" 200 '^\[1,2\]$'
    expect "hard delete subject" DELETE "/subjects/$subj?permanent=true" "" 200 '^\[1,2\]$'
    out="$(curl -s --max-time 5 "$BASE_URL/config")"
    printf 'info  global compatibility: %s\n' "$out"
    ((failed == 0)) || die "Confluent-compatibility self-check failed at $BASE_URL" "$REG_LOG"
}

khl_init
case "${1:-start}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart)
        "$0" stop
        cmd_start
        ;;
    status) cmd_status ;;
    fetch)
        choose_version
        registry_fetch
        ;;
    url) echo "$BASE_URL" ;;
    check) cmd_check ;;
    *) bad_subcommand registry.sh "start|stop|restart|status|fetch|url|check" ;;
esac
