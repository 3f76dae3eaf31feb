#!/usr/bin/env bash
# A local Elasticsearch-API search server for sohoa's search backend (SOHOA_SEARCH=http://...):
# a single OpenSearch node on loopback, no TLS, no security plugin.
#
#   scripts/services/search.sh install [--force]  # assemble the node once from Maven Central
#   scripts/services/search.sh up [DATA_DIR]      # start (or find running); prints SOHOA_SEARCH=...
#   scripts/services/search.sh down               # stop it (SIGTERM, then SIGKILL after a wait)
#   scripts/services/search.sh status             # "up http://..." (exit 0) or "down ..." (exit 3)
#
# Why OpenSearch, and why assembled: Elastic publishes no Elasticsearch server distribution to
# Maven Central (org.elasticsearch.distribution.{zip,tar}:elasticsearch is not there), and the
# only registry this workplace reaches for Java is Maven Central. OpenSearch (Apache-2.0) does
# publish its server jar and the jars of its modules there, so `install` resolves
#   org.opensearch:opensearch:VERSION (+ log4j-core, jts-core, spatial4j, opensearch-plugin-classloader)
# into lib/, and each module (org.opensearch.plugin:<artifact>:VERSION, see MODULES below) with
# its own dependencies, minus the jars already in lib/, into modules/<name>/, then writes each
# module's plugin-descriptor.properties and plugin-security.policy (the published jars carry
# neither) and config templates. Maven resolves with -C (strict checksums) into a local
# repository of its own; a MANIFEST.sha256 of every file of the node home is written at the end
# and checked by every later run (well under 2 s, no Maven, no network). A mismatch is an error
# (`install --force` reassembles).
#
# Layout (SOHOA_CACHE_DIR, default ~/.cache/sohoa):
#   search/m2/                     Maven's local repository (the downloads)
#   search/build-VERSION/          generated pom.xml files and mvn.log
#   search/opensearch-VERSION/     the node home: lib/ modules/ plugins/ config/ MANIFEST.sha256
#   run/search[-PORT]/             default DATA_DIR: config/ (rendered from the templates, and
#                                  the keystore), data/, logs/ (the node's own logs), tmp/,
#                                  search.pid, search.log (the JVM's stdout/stderr)
#   run/search-PORT.data           which DATA_DIR the node on PORT runs from (for down/status)
#
# OpenSearch refuses to run as root. Run as root, this script creates the system user
# sohoa-search (useradd -r, no home, no login shell), gives it DATA_DIR, and starts the JVM with
# `runuser -u sohoa-search --`. That user must be able to reach the node home and DATA_DIR: when
# an ancestor folder (typically /root, mode 0700) blocks it, the script adds the traverse bit for
# others (chmod o+x, never o+r) to that folder and says so; SOHOA_SEARCH_NO_CHMOD=1 makes it stop
# with an error instead. Run as another user, the JVM simply runs as that user.
#
# Java: OpenSearch 2.x needs Java 11..23 (it installs a SecurityManager, gone in Java 24), so the
# Temurin 25 JDK is not usable; the script takes SOHOA_SEARCH_JAVA_HOME, else JAVA_HOME, else the
# `java` on PATH, else /usr/lib/jvm/java-17-openjdk-amd64 / java-21-*, the first one in range.
#
# `up` prints exactly one line on stdout, `SOHOA_SEARCH=http://127.0.0.1:PORT`, so
#   export "$(scripts/services/search.sh up)"
# works; progress and errors go to stderr. It waits for cluster health yellow or green. When our
# node already answers on the port it only prints the line.
#
# Environment:
#   SOHOA_SEARCH_PORT (9200)  SOHOA_SEARCH_HEAP (512m: -Xms/-Xmx)  SOHOA_SEARCH_WAIT (120 s)
#   SOHOA_SEARCH_VERSION (2.19.6)  SOHOA_SEARCH_JAVA_OPTS (extra JVM options, space-separated)
#   SOHOA_SEARCH_STOP_WAIT (30 s before SIGKILL)  SOHOA_SEARCH_USER (sohoa-search)
#   SOHOA_CACHE_DIR (~/.cache/sohoa)
# Any failure prints the command that failed and its output, and exits non-zero.
set -Eeuo pipefail
umask 022

VERSION="${SOHOA_SEARCH_VERSION:-2.19.6}"
DIST=opensearch
PORT="${SOHOA_SEARCH_PORT:-9200}"
HOST=127.0.0.1
HEAP="${SOHOA_SEARCH_HEAP:-512m}"
WAIT_SECONDS="${SOHOA_SEARCH_WAIT:-120}"
STOP_WAIT="${SOHOA_SEARCH_STOP_WAIT:-30}"
SVC_USER="${SOHOA_SEARCH_USER:-sohoa-search}"
CLUSTER_NAME=sohoa-search
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
CACHE="${SOHOA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sohoa}"
BASE="$CACHE/search"
M2="$BASE/m2"
BUILD="$BASE/build-$VERSION"
NODE_HOME="$BASE/$DIST-$VERSION"
RUN="$CACHE/run"
POINTER="$RUN/search-$PORT.data"
if [ "$PORT" = 9200 ]; then DEFAULT_DATA="$RUN/search"; else DEFAULT_DATA="$RUN/search-$PORT"; fi
URL="http://$HOST:$PORT"
MAIN_CLASS=org.opensearch.bootstrap.OpenSearch
# Bump when the layout written by assemble() changes: a node home with another recipe is rebuilt.
LAYOUT_REV=2

# Extra jars for lib/ that the server's POM marks optional (or compile-only) but the official
# distribution ships in lib/.
LIB_EXTRAS=(
    "org.apache.logging.log4j:log4j-core:2.25.4"
    "org.locationtech.jts:jts-core:1.15.0"
    "org.locationtech.spatial4j:spatial4j:0.7"
    "org.opensearch:opensearch-plugin-classloader:$VERSION"
)
# name|artifactId (groupId org.opensearch.plugin)|plugin class|extended plugins|description
MODULES=(
    "transport-netty4|transport-netty4-client|org.opensearch.transport.Netty4Plugin||Netty 4 based transport and HTTP layer"
    "lang-painless|lang-painless|org.opensearch.painless.PainlessPlugin||The Painless scripting language"
    "analysis-common|analysis-common|org.opensearch.analysis.common.CommonAnalysisPlugin|lang-painless|Adds built in analyzers"
    "mapper-extras|mapper-extras-client|org.opensearch.index.mapper.MapperExtrasPlugin||Adds advanced field mappers"
    "aggs-matrix-stats|aggs-matrix-stats-client|org.opensearch.search.aggregations.matrix.MatrixAggregationPlugin||Adds matrix stats aggregations"
    "parent-join|parent-join-client|org.opensearch.join.ParentJoinPlugin||The join field and has_child/has_parent queries"
    "reindex|reindex-client|org.opensearch.index.reindex.ReindexPlugin||The reindex, update-by-query and delete-by-query APIs"
    "percolator|percolator-client|org.opensearch.percolator.PercolatorPlugin||The percolator query"
    "lang-mustache|lang-mustache-client|org.opensearch.script.mustache.MustachePlugin||Mustache search templates"
    "rank-eval|rank-eval-client|org.opensearch.index.rankeval.RankEvalPlugin||The rank evaluation API"
    "search-pipeline-common|search-pipeline-common|org.opensearch.search.pipeline.common.SearchPipelineCommonModulePlugin||Common search pipeline processors"
)

SERVICE_NAME=search.sh
# shellcheck source=scripts/services/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "$PORT" in ''|*[!0-9]*) fail "SOHOA_SEARCH_PORT must be a port number, got '$PORT'";; esac
case "$HEAP" in [0-9]*[mMgG]) ;; *) fail "SOHOA_SEARCH_HEAP must look like 512m or 1g, got '$HEAP'";; esac

is_root() { [ "$(id -u)" = 0 ]; }

# java_major JAVA_HOME: the feature version from its release file (no JVM start).
java_major() {
    local v
    v="$(sed -n 's/^JAVA_VERSION="\([0-9.]*\).*/\1/p' "$1/release" 2>/dev/null | head -1)"
    v="${v#1.}"; echo "${v%%.*}"
}

# find_java: sets JAVA_HOME_SEL and JAVA to a JDK/JRE whose major version is 11..23.
find_java() {
    local cands=() c m
    [ -n "${SOHOA_SEARCH_JAVA_HOME:-}" ] && cands+=("$SOHOA_SEARCH_JAVA_HOME")
    [ -n "${JAVA_HOME:-}" ] && cands+=("$JAVA_HOME")
    if command -v java >/dev/null; then
        c="$(readlink -f "$(command -v java)")"; cands+=("${c%/bin/java}")
    fi
    cands+=(/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64 /usr/lib/jvm/temurin-17-jdk-amd64 /usr/lib/jvm/temurin-21-jdk-amd64)
    for c in "${cands[@]}"; do
        [ -x "$c/bin/java" ] || continue
        m="$(java_major "$c")"
        case "$m" in ''|*[!0-9]*) continue;; esac
        if [ "$m" -ge 11 ] && [ "$m" -le 23 ]; then JAVA_HOME_SEL="$c"; JAVA="$c/bin/java"; return 0; fi
    done
    fail "no Java 11..23 found (tried: ${cands[*]}); OpenSearch $VERSION needs one (Debian: apt-get install openjdk-17-jre-headless), or set SOHOA_SEARCH_JAVA_HOME"
}

recipe() {
    printf '%s\n' "dist=$DIST version=$VERSION layout=$LAYOUT_REV plugin=$DEP_PLUGIN" "${LIB_EXTRAS[@]}" "${MODULES[@]}"
}

# verify_home: the node home exists, was built from this recipe, and matches its manifest.
# Returns 1 when it is absent or from another recipe, 2 when it does not match its manifest.
verify_home() {
    [ -f "$NODE_HOME/.sohoa-recipe" ] && [ -f "$NODE_HOME/MANIFEST.sha256" ] || return 1
    [ -d "$NODE_HOME/plugins" ] || { say "$NODE_HOME/plugins is missing"; return 2; }
    [ "$(cat "$NODE_HOME/.sohoa-recipe")" = "$(recipe | sha256sum | cut -d' ' -f1)" ] || return 1
    local listed present
    listed="$(cut -c67- "$NODE_HOME/MANIFEST.sha256" | sort)"
    present="$(cd "$NODE_HOME" && find bin lib modules plugins config -type f | sort)"
    if [ "$listed" != "$present" ]; then
        say "files of $NODE_HOME differ from its MANIFEST.sha256:"
        diff <(printf '%s\n' "$listed") <(printf '%s\n' "$present") | grep '^[<>]' | head -20 >&2 || true
        return 2
    fi
    local out
    if ! out="$(cd "$NODE_HOME" && sha256sum --quiet --strict -c MANIFEST.sha256 2>&1)"; then
        say "sha256 check of $NODE_HOME failed (cd $NODE_HOME && sha256sum -c MANIFEST.sha256):"
        printf '%s\n' "$out" | head -20 >&2
        return 2
    fi
    return 0
}

write_poms() {
    local m name artifact mods="" deps="" coord g a v
    run mkdir -p "$BUILD/server"
    for m in "${MODULES[@]}"; do
        IFS='|' read -r name artifact _ <<<"$m"
        mods+="    <module>$name</module>"$'\n'
    done
    cat >"$BUILD/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/services/search.sh: resolves an OpenSearch $VERSION node, one module per folder. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>sohoa.search</groupId>
  <artifactId>assembly</artifactId>
  <version>$VERSION</version>
  <packaging>pom</packaging>
  <modules>
    <module>server</module>
$mods  </modules>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>${DEP_PLUGIN##*:}</version>
        <configuration>
          <outputDirectory>\${project.basedir}/jars</outputDirectory>
          <includeScope>runtime</includeScope>
        </configuration>
      </plugin>
    </plugins>
  </build>
</project>
EOF
    child() { # child DIR ARTIFACT_ID DEPENDENCIES_XML
        cat >"$1/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>sohoa.search</groupId><artifactId>assembly</artifactId><version>$VERSION</version></parent>
  <artifactId>$2</artifactId>
  <packaging>pom</packaging>
  <dependencies>
$3  </dependencies>
</project>
EOF
    }
    deps="    <dependency><groupId>org.opensearch</groupId><artifactId>opensearch</artifactId><version>$VERSION</version></dependency>"$'\n'
    for coord in "${LIB_EXTRAS[@]}"; do
        IFS=: read -r g a v <<<"$coord"
        deps+="    <dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"$'\n'
    done
    child "$BUILD/server" server "$deps"
    for m in "${MODULES[@]}"; do
        IFS='|' read -r name artifact _ <<<"$m"
        run mkdir -p "$BUILD/$name"
        child "$BUILD/$name" "module-$name" \
            "    <dependency><groupId>org.opensearch.plugin</groupId><artifactId>$artifact</artifactId><version>$VERSION</version></dependency>"$'\n'
    done
}

# policy NAME: the module's plugin-security.policy (as in OpenSearch's sources), or nothing.
policy() {
    case "$1" in
        transport-netty4) cat <<'EOF'
grant {
  // for reading the system-wide configuration for the backlog of established sockets
  permission java.io.FilePermission "/proc/sys/net/core/somaxconn", "read";
  // netty makes and accepts socket connections
  permission java.net.SocketPermission "*", "accept,connect";
  // Netty sets custom classloader for some of its internal threads
  permission java.lang.RuntimePermission "*", "setContextClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
  // Netty NioEventLoop wants to change this (JDK-6427854)
  permission java.util.PropertyPermission "sun.nio.ch.bugLevel", "write";
};
EOF
        ;;
        lang-painless) cat <<'EOF'
grant {
  // needed to generate runtime classes
  permission java.lang.RuntimePermission "createClassLoader";
  // needed to find the classloader to load allowlisted classes from
  permission java.lang.RuntimePermission "getClassLoader";
};
EOF
        ;;
        reindex) cat <<'EOF'
grant {
  // reindex opens socket connections using the rest client
  permission java.net.SocketPermission "*", "connect";
};
grant codeBase "${codebase.opensearch-rest-client}" {
  // rest client uses system properties which gets the default proxy
  permission java.net.NetPermission "getProxySelector";
};
grant codeBase "${codebase.httpasyncclient}" {
  // rest client uses system properties which gets the default proxy
  permission java.net.NetPermission "getProxySelector";
};
EOF
        ;;
        lang-mustache) cat <<'EOF'
grant {
  // needed to do crazy reflection
  permission java.lang.RuntimePermission "accessDeclaredMembers";
};
EOF
        ;;
    esac
}

write_config_templates() { # DIR: templates rendered by `up` (@PORT@ @DATA@ @HEAP@ @DIRECT@)
    cat >"$1/opensearch.yml" <<'EOF'
# sohoa's single-node search server (rendered by scripts/services/search.sh up).
cluster.name: sohoa-search
node.name: sohoa-search-1
path.data: @DATA@/data
path.logs: @DATA@/logs
network.host: 127.0.0.1
http.port: @PORT@
# Node-to-node transport stays on loopback too; first free port of the range.
transport.port: 9300-9400
discovery.type: single-node
# A development machine's disk may be nearly full: don't turn indices read-only for that.
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: true
EOF
    cat >"$1/jvm.options" <<'EOF'
## JVM options for the node, one per line (rendered by scripts/services/search.sh up).
## The first group is what OpenSearch's launcher adds itself (SystemJvmOptions), the rest is
## its distribution's jvm.options, for Java 11+.
-Xms@HEAP@
-Xmx@HEAP@
-XX:MaxDirectMemorySize=@DIRECT@
-Dopensearch.networkaddress.cache.ttl=60
-Dopensearch.networkaddress.cache.negative.ttl=10
-Xss1m
-Djava.awt.headless=true
-Dfile.encoding=UTF-8
-Djna.nosys=true
-Djna.tmpdir=@DATA@/tmp
-XX:-OmitStackTraceInFastThrow
-XX:+ShowCodeDetailsInExceptionMessages
-Dio.netty.noUnsafe=true
-Dio.netty.noKeySetOptimization=true
-Dio.netty.recycler.maxCapacityPerThread=0
-Dio.netty.allocator.numDirectArenas=0
-Dlog4j.shutdownHookEnabled=false
-Dlog4j2.disable.jmx=true
-Djava.locale.providers=SPI,COMPAT
-XX:+UseG1GC
-XX:G1ReservePercent=25
-XX:InitiatingHeapOccupancyPercent=30
-Djava.io.tmpdir=@DATA@/tmp
-XX:+HeapDumpOnOutOfMemoryError
-XX:HeapDumpPath=@DATA@/logs
-XX:ErrorFile=@DATA@/logs/hs_err_pid%p.log
-Xlog:gc*,gc+age=trace,safepoint:file=@DATA@/logs/gc.log:utctime,pid,tags:filecount=4,filesize=16m
EOF
    cat >"$1/log4j2.properties" <<'EOF'
# Node logs: logs/sohoa-search.log (rolled at 64 MB, 4 kept) at INFO, deprecations to
# logs/sohoa-search_deprecation.log; warnings and errors also on the console (search.log).
status = error

appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
appender.console.filter.threshold.type = ThresholdFilter
appender.console.filter.threshold.level = warn

appender.rolling.type = RollingFile
appender.rolling.name = rolling
appender.rolling.fileName = ${sys:opensearch.logs.base_path}${sys:file.separator}${sys:opensearch.logs.cluster_name}.log
appender.rolling.filePattern = ${sys:opensearch.logs.base_path}${sys:file.separator}${sys:opensearch.logs.cluster_name}-%i.log.gz
appender.rolling.layout.type = PatternLayout
appender.rolling.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
appender.rolling.policies.type = Policies
appender.rolling.policies.size.type = SizeBasedTriggeringPolicy
appender.rolling.policies.size.size = 64MB
appender.rolling.strategy.type = DefaultRolloverStrategy
appender.rolling.strategy.max = 4

rootLogger.level = info
rootLogger.appenderRef.console.ref = console
rootLogger.appenderRef.rolling.ref = rolling

appender.deprecation_rolling.type = RollingFile
appender.deprecation_rolling.name = deprecation_rolling
appender.deprecation_rolling.fileName = ${sys:opensearch.logs.base_path}${sys:file.separator}${sys:opensearch.logs.cluster_name}_deprecation.log
appender.deprecation_rolling.filePattern = ${sys:opensearch.logs.base_path}${sys:file.separator}${sys:opensearch.logs.cluster_name}_deprecation-%i.log.gz
appender.deprecation_rolling.layout.type = PatternLayout
appender.deprecation_rolling.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
appender.deprecation_rolling.policies.type = Policies
appender.deprecation_rolling.policies.size.type = SizeBasedTriggeringPolicy
appender.deprecation_rolling.policies.size.size = 16MB
appender.deprecation_rolling.strategy.type = DefaultRolloverStrategy
appender.deprecation_rolling.strategy.max = 2

logger.deprecation.name = org.opensearch.deprecation
logger.deprecation.level = deprecation
logger.deprecation.appenderRef.deprecation_rolling.ref = deprecation_rolling
logger.deprecation.additivity = false
EOF
}

assemble() {
    command -v mvn >/dev/null || fail "mvn not found (Debian: apt-get install maven)"
    find_java
    say "assembling OpenSearch $VERSION from Maven Central into $NODE_HOME (first time: about 75 MB of downloads)"
    write_poms
    run rm -rf "$BUILD"/*/jars
    local log="$BUILD/mvn.log" rc=0
    local mvn=(mvn -B -q -C -Dmaven.repo.local="$M2" -f "$BUILD/pom.xml" "$DEP_PLUGIN:copy-dependencies")
    JAVA_HOME="$JAVA_HOME_SEL" "${mvn[@]}" >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        say "error: command failed (exit $rc): JAVA_HOME=$JAVA_HOME_SEL $(printf '%q ' "${mvn[@]}")"
        grep -E 'ERROR|Could not|not found' "$log" | head -20 >&2 || tail -n 40 "$log" >&2
        fail "Maven could not resolve the node's jars (full log: $log)"
    fi

    local stage="$BASE/.stage-$VERSION.$$"
    run rm -rf "$stage"
    run mkdir -p "$stage/bin" "$stage/lib" "$stage/modules" "$stage/plugins" "$stage/config"
    # The node checks (and would create) bin/ and plugins/ under its home. plugins/ stays empty
    # (every entry in it is taken for a plugin); bin/ has a note, so the manifest lists it.
    echo "No scripts here: scripts/services/search.sh starts this node." >"$stage/bin/README"
    run cp -p "$BUILD/server/jars/"*.jar "$stage/lib/"
    [ -f "$stage/lib/$DIST-$VERSION.jar" ] || fail "no $DIST-$VERSION.jar among the resolved jars ($BUILD/server/jars)"
    local m name artifact cls ext desc j n
    for m in "${MODULES[@]}"; do
        IFS='|' read -r name artifact cls ext desc <<<"$m"
        run mkdir -p "$stage/modules/$name"
        n=0
        for j in "$BUILD/$name/jars/"*.jar; do
            # A jar already on the server's class path must not be loaded again (jar hell).
            [ -e "$stage/lib/$(basename "$j")" ] && continue
            run cp -p "$j" "$stage/modules/$name/"
            n=$((n + 1))
        done
        [ -f "$stage/modules/$name/$artifact-$VERSION.jar" ] || fail "module $name: $artifact-$VERSION.jar was not resolved"
        ! command -v unzip >/dev/null || unzip -l "$stage/modules/$name/$artifact-$VERSION.jar" "${cls//.//}.class" >/dev/null 2>&1 \
            || fail "module $name: class $cls not found in $artifact-$VERSION.jar"
        cat >"$stage/modules/$name/plugin-descriptor.properties" <<EOF
# Written by scripts/services/search.sh from org.opensearch.plugin:$artifact:$VERSION
description=$desc
version=$VERSION
name=$name
classname=$cls
java.version=11
opensearch.version=$VERSION
extended.plugins=$ext
has.native.controller=false
EOF
        if [ -n "$(policy "$name")" ]; then policy "$name" >"$stage/modules/$name/plugin-security.policy"; fi
    done
    write_config_templates "$stage/config"
    (cd "$stage" && find bin lib modules plugins config -type f | sort | xargs sha256sum) >"$stage/MANIFEST.sha256"
    recipe | sha256sum | cut -d' ' -f1 >"$stage/.sohoa-recipe"
    run rm -rf "$NODE_HOME"
    run mv -T "$stage" "$NODE_HOME"
    say "installed $NODE_HOME ($(du -sh "$NODE_HOME" | cut -f1); $(ls "$NODE_HOME/lib" | wc -l) jars in lib, ${#MODULES[@]} modules); Maven repository $M2: $(du -sh "$M2" | cut -f1)"
}

cmd_install() {
    local force="${1:-}" rc=0
    # One install at a time (parallel test workers may all call `up`): fd 8 holds the lock.
    run mkdir -p "$BASE"
    exec 8>"$BASE/.install.lock"
    flock -w 900 8 || fail "another install still holds $BASE/.install.lock after 900 s"
    if [ "$force" != --force ]; then
        verify_home || rc=$?
        [ "$rc" -eq 0 ] && return 0
        [ "$rc" -eq 2 ] && fail "$NODE_HOME does not match its manifest (a changed, added or missing file, listed above); run: $0 install --force"
    fi
    assemble
    verify_home || fail "the freshly assembled $NODE_HOME does not verify"
}

# ----------------------------------------------------------------------------------------- run

data_of_port() { [ -f "$POINTER" ] && cat "$POINTER" 2>/dev/null || true; }

# ours_alive DATA: DATA/search.pid names a live OpenSearch JVM.
ours_alive() {
    local data="$1" pid
    [ -n "$data" ] && [ -f "$data/search.pid" ] || return 1
    pid="$(cat "$data/search.pid" 2>/dev/null)" || return 1
    case "$pid" in ''|*[!0-9]*) return 1;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$MAIN_CLASS"
}

healthy() {
    curl -s -m 3 "$URL/_cluster/health" 2>/dev/null | grep -Eq '"status" *: *"(green|yellow)"'
}

port_busy() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

ensure_user() {
    id -u "$SVC_USER" >/dev/null 2>&1 && return 0
    say "creating system user $SVC_USER"
    RUN_QUIET=1 run useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "sohoa search server" "$SVC_USER"
}

as_svc() { if is_root; then runuser -u "$SVC_USER" -- "$@"; else "$@"; fi; }

# ensure_reach PATH: the service user can traverse every folder down to PATH (root only).
ensure_reach() {
    local target="$1" p="" part
    as_svc test -x "$target" 2>/dev/null && return 0
    local IFS=/
    for part in $target; do
        [ -n "$part" ] || continue
        p="$p/$part"
        [ -d "$p" ] || break
        if ! as_svc test -x "$p" 2>/dev/null; then
            [ -n "${SOHOA_SEARCH_NO_CHMOD:-}" ] && fail "user $SVC_USER cannot enter $p (mode $(stat -c %a "$p")), and SOHOA_SEARCH_NO_CHMOD is set"
            say "note: letting $SVC_USER pass through $p: chmod o+x $p (was $(stat -c %a "$p"); traverse only, no listing)"
            RUN_QUIET=1 run chmod o+x "$p"
        fi
    done
}

# render TEMPLATE OUT
render() {
    local mb num unit
    num="${HEAP%[mMgG]}"; unit="${HEAP: -1}"
    case "$unit" in g|G) mb=$((num * 1024));; *) mb=$num;; esac
    sed -e "s|@PORT@|$PORT|g" -e "s|@DATA@|$DATA|g" -e "s|@HEAP@|$HEAP|g" -e "s|@DIRECT@|$((mb / 2))m|g" "$1" >"$2"
}

wait_healthy() {
    local pid="$1" deadline=$((SECONDS + WAIT_SECONDS))
    until healthy; do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "error: the node exited during start-up. Command was:"
            printf '  %s\n' "$START_CMD" >&2
            say "last lines of $DATA/search.log:"; tail -n 30 "$DATA/search.log" >&2 2>/dev/null || true
            say "last lines of $DATA/logs/$CLUSTER_NAME.log:"; tail -n 15 "$DATA/logs/$CLUSTER_NAME.log" >&2 2>/dev/null || true
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "error: no yellow/green health from $URL/_cluster/health within ${WAIT_SECONDS}s (pid $pid still runs; stop it with: $0 down). Command was:"
            printf '  %s\n' "$START_CMD" >&2
            say "last lines of $DATA/logs/$CLUSTER_NAME.log:"; tail -n 30 "$DATA/logs/$CLUSTER_NAME.log" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 0.5
    done
}

cmd_up() {
    command -v curl >/dev/null || fail "curl not found (Debian: apt-get install curl)"
    cmd_install
    exec 8>&-
    run mkdir -p "$RUN"
    # One `up` per port at a time: fd 9 holds the lock until this script exits.
    exec 9>"$RUN/search-$PORT.lock"
    flock -w "$((WAIT_SECONDS + 30))" 9 || fail "another 'up' on port $PORT still holds $RUN/search-$PORT.lock"
    local running
    running="$(data_of_port)"
    if ours_alive "$running"; then
        DATA="$running"; START_CMD="(started earlier, see $DATA/search.log)"
        if [ -n "${1:-}" ] && [ "$(cd "$1" 2>/dev/null && pwd -P)" != "$running" ]; then
            say "note: the node on port $PORT already runs from $running, not from $1; using it"
        fi
        healthy || wait_healthy "$(cat "$DATA/search.pid")"
        echo "SOHOA_SEARCH=$URL"
        return 0
    fi
    if port_busy; then
        fail "$HOST:$PORT is already in use by another process (not ours: no live node recorded in $POINTER); set SOHOA_SEARCH_PORT"
    fi
    find_java
    DATA="${1:-$DEFAULT_DATA}"
    run mkdir -p "$DATA"
    DATA="$(cd "$DATA" && pwd -P)"
    run mkdir -p "$DATA/config" "$DATA/data" "$DATA/logs" "$DATA/tmp"
    if is_root; then
        ensure_user
        ensure_reach "$NODE_HOME"
        ensure_reach "$DATA"
        RUN_QUIET=1 run chown "$SVC_USER:$SVC_USER" "$DATA"
        local d
        for d in config data logs tmp; do
            if [ -n "$(find "$DATA/$d" ! -user "$SVC_USER" -print -quit)" ]; then
                RUN_QUIET=1 run chown -R "$SVC_USER:$SVC_USER" "$DATA/$d"
            fi
        done
        as_svc test -r "$NODE_HOME/lib/$DIST-$VERSION.jar" || fail "user $SVC_USER cannot read $NODE_HOME/lib"
    fi
    local f
    for f in opensearch.yml jvm.options log4j2.properties; do
        render "$NODE_HOME/config/$f" "$DATA/config/$f"
    done
    is_root && RUN_QUIET=1 run chown "$SVC_USER:$SVC_USER" "$DATA/config/opensearch.yml" "$DATA/config/jvm.options" "$DATA/config/log4j2.properties"
    local jvm_opts=() extra=()
    mapfile -t jvm_opts < <(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$DATA/config/jvm.options")
    # shellcheck disable=SC2206
    [ -n "${SOHOA_SEARCH_JAVA_OPTS:-}" ] && extra=(${SOHOA_SEARCH_JAVA_OPTS})
    local cmd=("$JAVA" "${jvm_opts[@]}" "${extra[@]}"
        -Dopensearch.path.home="$NODE_HOME" -Dopensearch.path.conf="$DATA/config"
        -Dopensearch.distribution.type=tar -Dopensearch.bundled_jdk=false
        -cp "$NODE_HOME/lib/*" "$MAIN_CLASS")
    local launch=()
    is_root && launch=(runuser -u "$SVC_USER" --)
    START_CMD="cd $(printf '%q' "$DATA") && $(printf '%q ' "${launch[@]}" "${cmd[@]}")"
    rm -f "$DATA/search.pid"
    printf '%s\n' "$DATA" >"$POINTER"
    {
        echo "=== $(date -Is) search.sh up: $START_CMD"
    } >>"$DATA/search.log"
    # The inner shell writes its own pid, then becomes the JVM: search.pid is the JVM's pid.
    (exec 9>&-; cd "$DATA" && exec setsid "${launch[@]}" /bin/sh -c 'echo $$ >"$0"; exec "$@"' "$DATA/search.pid" "${cmd[@]}" \
        >>"$DATA/search.log" 2>&1 </dev/null) &
    for _ in $(seq 1 100); do [ -s "$DATA/search.pid" ] && break; sleep 0.05; done
    [ -s "$DATA/search.pid" ] || { say "error: the node did not start. Command was:"; printf '  %s\n' "$START_CMD" >&2; tail -n 30 "$DATA/search.log" >&2; exit 1; }
    local pid
    pid="$(cat "$DATA/search.pid")"
    say "starting OpenSearch $VERSION (pid $pid, data $DATA, log $DATA/search.log and $DATA/logs/)"
    wait_healthy "$pid"
    say "up on $URL (pid $pid)"
    echo "SOHOA_SEARCH=$URL"
}

cmd_down() {
    local data pid
    data="$(data_of_port)"
    if ! ours_alive "$data"; then
        [ -n "$data" ] && rm -f "$data/search.pid"
        rm -f "$POINTER"
        say "already down ($URL)"
        return 0
    fi
    pid="$(cat "$data/search.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((STOP_WAIT * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "pid $pid did not stop within ${STOP_WAIT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    kill -0 "$pid" 2>/dev/null && fail "could not stop the node, pid $pid"
    rm -f "$data/search.pid" "$POINTER"
    say "down ($URL)"
}

cmd_status() {
    local data
    data="$(data_of_port)"
    if ours_alive "$data" && healthy; then
        echo "up $URL (pid $(cat "$data/search.pid"), data $data)"
        return 0
    fi
    if ours_alive "$data"; then
        echo "down $URL (pid $(cat "$data/search.pid") runs but the cluster is not yellow/green yet)"
        return 3
    fi
    echo "down $URL"
    return 3
}

usage() { echo "usage: $0 install [--force]|up [DATA_DIR]|down|status" >&2; exit 64; }

[ "$#" -ge 1 ] || usage
action="$1"; shift
case "$action" in
    install) [ "$#" -le 1 ] || usage; [ "$#" -eq 0 ] || [ "$1" = --force ] || usage; cmd_install "$@" ;;
    up) [ "$#" -le 1 ] || usage; cmd_up "$@" ;;
    down) [ "$#" -eq 0 ] || usage; cmd_down ;;
    status) [ "$#" -eq 0 ] || usage; trap - ERR; cmd_status ;;
    *) usage ;;
esac
