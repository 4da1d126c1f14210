#!/bin/sh
# `npm start`: runs `trustgate serve` with the heap cap, under jemalloc when it is installed (README,
# "Memory allocator"). The process is replaced (exec), so signals and the exit code are the server's own.
#   TRUSTGATE_MALLOC=auto      jemalloc if libjemalloc.so.2 is found, else the C library's malloc (default)
#   TRUSTGATE_MALLOC=jemalloc  jemalloc, or exit 2 when it is not installed
#   TRUSTGATE_MALLOC=system    the C library's malloc
#   TRUSTGATE_JEMALLOC=<file>  where libjemalloc.so.2 is, when not in a distribution's library directory
# MALLOC_CONF, when set, is kept; otherwise jemalloc purges freed pages from its own background thread.
set -eu

dir=$(dirname "$0")
mode=${TRUSTGATE_MALLOC:-auto}

# Where distributions install jemalloc's shared library (Debian and Ubuntu: package libjemalloc2). The
# bench picks the allocator with the same list (server/bench/server-process.ts; a test keeps them equal).
find_jemalloc() {
  for lib in ${TRUSTGATE_JEMALLOC:-} \
    /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
    /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 \
    /usr/lib64/libjemalloc.so.2 \
    /usr/lib/libjemalloc.so.2; do
    if [ -r "$lib" ]; then
      echo "$lib"
      return 0
    fi
  done
  return 1
}

case $mode in
  system) ;;
  auto | jemalloc)
    if lib=$(find_jemalloc); then
      case ":${LD_PRELOAD:-}:" in
        *libjemalloc*) ;;
        *) LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}" ;;
      esac
      export LD_PRELOAD
      export MALLOC_CONF="${MALLOC_CONF:-background_thread:true}"
    elif [ "$mode" = jemalloc ]; then
      echo "error: TRUSTGATE_MALLOC=jemalloc but libjemalloc.so.2 was not found;" \
        "install it (Debian/Ubuntu: apt-get install -y libjemalloc2), name it with TRUSTGATE_JEMALLOC=<file>," \
        "or use TRUSTGATE_MALLOC=system" >&2
      exit 2
    fi
    ;;
  *)
    echo "error: TRUSTGATE_MALLOC=\"$mode\": use auto, jemalloc or system" >&2
    exit 2
    ;;
esac

exec node --max-old-space-size=768 "$dir/bin.js" serve "$@"
