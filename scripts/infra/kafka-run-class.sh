#!/usr/bin/env bash
# Run any Kafka class on the same classpath as the broker started by kafka.sh
# (downloads the jars first if needed). Tool logging goes to stderr at WARN.
#
#   scripts/infra/kafka-run-class.sh <class|alias> args...
#
# Aliases:
#   topics            org.apache.kafka.tools.TopicCommand
#   consumer-groups   org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
#   producer-perf     org.apache.kafka.tools.ProducerPerformance
#   consumer-perf     org.apache.kafka.tools.ConsumerPerformance
#   console-producer  org.apache.kafka.tools.ConsoleProducer
#   console-consumer  org.apache.kafka.tools.consumer.ConsoleConsumer
#   transactions      org.apache.kafka.tools.TransactionsCommand
#   get-offsets       org.apache.kafka.tools.GetOffsetShell
#   metadata-quorum   org.apache.kafka.tools.MetadataQuorumCommand
#
# Example:
#   scripts/infra/kafka-run-class.sh topics --bootstrap-server 127.0.0.1:9092 --list
# Environment: KHLANG_KAFKA_TOOL_OPTS (extra JVM flags, default -Xmx512m).
set -euo pipefail
SERVICE=kafka-run-class
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if (($# < 1)); then
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi

class="$1"
shift
case "$class" in
    topics) class=org.apache.kafka.tools.TopicCommand ;;
    consumer-groups) class=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
    producer-perf) class=org.apache.kafka.tools.ProducerPerformance ;;
    consumer-perf) class=org.apache.kafka.tools.ConsumerPerformance ;;
    console-producer) class=org.apache.kafka.tools.ConsoleProducer ;;
    console-consumer) class=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    transactions) class=org.apache.kafka.tools.TransactionsCommand ;;
    get-offsets) class=org.apache.kafka.tools.GetOffsetShell ;;
    metadata-quorum) class=org.apache.kafka.tools.MetadataQuorumCommand ;;
esac

KAFKA_VERSION="${KHLANG_KAFKA_VERSION:-4.1.1}"
libs="$KHLANG_CACHE/kafka-$KAFKA_VERSION/libs"
khl_init
if [[ ! -f "$KHLANG_CACHE/kafka-$KAFKA_VERSION/.complete" ]]; then
    "$INFRA_DIR/kafka.sh" fetch
fi

java="${KHLANG_KAFKA_JAVA:-}"
if [[ -z "$java" ]]; then
    java="$(find_java 17)" || die "no Java >= 17 found (set KHLANG_KAFKA_JAVA)"
fi

tool_log4j="$KHLANG_CACHE/kafka-$KAFKA_VERSION/tools-log4j2.properties"
if [[ ! -f "$tool_log4j" ]]; then
    cat >"$tool_log4j.tmp.$$" <<'EOF'
status = warn
name = khlang-kafka-tools
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
    mv -f "$tool_log4j.tmp.$$" "$tool_log4j"
fi

# shellcheck disable=SC2086 # KHLANG_KAFKA_TOOL_OPTS is a list of JVM flags
exec "$java" ${KHLANG_KAFKA_TOOL_OPTS:--Xmx512m} -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$tool_log4j" -cp "$libs/*" "$class" "$@"
