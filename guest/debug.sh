# Plan "debug" (make check-debug): the whole check plan on the KASAN kernel.
. /memattr/check.sh
